# A pty master holder: a shell on the slave (its session's controlling terminal) counts through
# /dev/tty, and
# each line the master reads is printed with the terminal's settings as the master sees them
# (VINTR, ECHO and the window size were changed; fg: the foreground group).
import fcntl, os, pty, signal, struct, sys, termios, time

# SIGUSR1: stop reading for a while, so that the shell's output queues up in the pty
def pause_reading(sig, frame):
    print("pausing", flush=True)
    time.sleep(2)

signal.signal(signal.SIGUSR1, pause_reading)

pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", 'exec 3>/dev/tty; i=0; while :; do echo "n $i" >&3; i=$((i+1)); sleep 0.1; done'])

a = termios.tcgetattr(fd)  # the slave's, changed through the master
a[3] &= ~termios.ECHO
a[6][termios.VINTR] = b"\x18"
termios.tcsetattr(fd, termios.TCSANOW, a)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
index = struct.unpack("I", fcntl.ioctl(fd, 0x80045430, b"\0" * 4))[0]  # TIOCGPTN
print("child=%d pts=%d" % (pid, index), flush=True)

buf = b""
while True:
    try:
        d = os.read(fd, 4096)
    except OSError as e:
        print("read error", e, flush=True)
        break
    if not d:
        print("eof", flush=True)
        break
    buf += d
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        t = termios.tcgetattr(fd)
        ws = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        print(line.decode().strip("\r"), "intr=%d echo=%d ws=%dx%d fg=%d" % (
            t[6][termios.VINTR][0], 1 if t[3] & termios.ECHO else 0, ws[0], ws[1], os.tcgetpgrp(fd)), flush=True)
