package jcriu.dump;

import java.io.IOException;

import jcriu.proc.FdInfo;
import jcriu.state.FdState;

/** Decides, per open fd, whether and how it can be restored; names the fd when it cannot. */
final class FdMapping {
    private static final int O_CLOEXEC = 02000000;

    private FdMapping() {}

    static FdState toState(int pid, FdInfo fd, boolean shellJob, int sharesWith) throws IOException {
        String what = "fd " + fd.fd() + " of process " + pid + " (" + fd.target() + ")";
        boolean cloexec = (fd.flags() & O_CLOEXEC) != 0;
        return switch (fd.kind()) {
            case REGULAR_FILE -> new FdState(fd.fd(), FdState.Kind.REGULAR, fd.target(), fd.flags(), fd.pos(), cloexec, sharesWith);
            case DIRECTORY -> {
                if (fd.target().endsWith(jcriu.proc.Vma.DELETED_SUFFIX)) {
                    throw new IOException(what + " is a deleted directory; jcriu cannot recreate it, so the images"
                            + " could not be restored");
                }
                yield new FdState(fd.fd(), FdState.Kind.DIRECTORY, fd.target(), fd.flags(), fd.pos(), cloexec, sharesWith);
            }
            case CHAR_DEVICE -> {
                if (!isSimpleDevice(fd.target())) {
                    throw new IOException(what + ": character device not supported (only /dev/null, /dev/zero, "
                            + "/dev/full, /dev/random, /dev/urandom)");
                }
                yield new FdState(fd.fd(), FdState.Kind.CHAR_DEVICE, fd.target(), fd.flags(), 0, cloexec, sharesWith);
            }
            case TTY -> {
                if (shellJob && fd.fd() <= 2) {
                    yield new FdState(fd.fd(), FdState.Kind.INHERITED_TTY, fd.target(), fd.flags(), 0, cloexec, sharesWith);
                }
                throw new IOException(what + " is a terminal"
                        + (fd.fd() <= 2 ? "; use --shell-job to take the restoring terminal instead" : ""));
            }
            case PIPE -> new FdState(fd.fd(), FdState.Kind.PIPE, fd.target(), fd.flags(), fd.ino(), cloexec, sharesWith);
            case SOCKET -> throw new IOException(what + " is a socket; sockets are not supported yet");
            case DELETED -> throw new IOException(what + " refers to a deleted file; not supported yet");
            default -> throw new IOException(what + ": this kind of file (" + fd.kind() + ") is not supported yet");
        };
    }

    private static boolean isSimpleDevice(String path) {
        return switch (path) {
            case "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" -> true;
            default -> false;
        };
    }
}
