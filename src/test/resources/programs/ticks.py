import threading, time, sys
counts = [0]*3
def work(i):
    while True:
        counts[i] += 1
        time.sleep(0.05)
ts = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(3)]
for t in ts: t.start()
n = 0
while True:
    n += 1
    print("tick", n, counts, flush=True)
    time.sleep(0.1)
