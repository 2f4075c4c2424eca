# asyncio with timers: a tick every 0.2 s (asyncio.sleep) and a one-shot call_later timer
# set for 6 s after start; asyncio holds an epoll and a socketpair to wake itself.
import asyncio, time

async def main():
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    loop.call_later(6.0, lambda: print("timer fired after %.1f" % (time.monotonic() - start), flush=True))
    n = 0
    while True:
        n += 1
        print("tick=%d" % n, flush=True)
        await asyncio.sleep(0.2)

asyncio.run(main())
