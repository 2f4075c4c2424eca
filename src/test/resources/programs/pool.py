# multiprocessing.Pool(4) computing a sum that is known in advance, with ~20 MB of data the
# parent builds before forking the workers: they share it copy-on-write.
# Output: "ready pid=P", "progress N" every 100 results, "result S", "exit code=0".
import multiprocessing as mp, os, time

data = [i * 7 for i in range(500_000)]

def work(x):
    time.sleep(0.02)
    return data[x] + x

if __name__ == '__main__':
    print("ready pid=%d" % os.getpid(), flush=True)
    with mp.Pool(4) as pool:
        total = 0
        for i, r in enumerate(pool.imap(work, range(2000))):
            total += r
            if i % 100 == 0:
                print("progress %d" % i, flush=True)
        print("result %d" % total, flush=True)
    print("exit code=0", flush=True)
