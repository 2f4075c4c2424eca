package jcriu.sys;

/** errno values of x86_64 Linux (asm-generic/errno-base.h, errno.h) that jcriu names in messages. */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
            ENOEXEC = 8, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14,
            EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23,
            EMFILE = 24, ENOTTY = 25, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EPIPE = 32,
            ERANGE = 34, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENAMETOOLONG = 36, EOVERFLOW = 75,
            EOPNOTSUPP = 95, ETIMEDOUT = 110;
    /** Kernel-internal restart codes, visible to a tracer in rax of a task stopped in a syscall. */
    public static final int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514,
            ERESTART_RESTARTBLOCK = 516;

    private Errno() {}

    public static String name(int e) {
        return switch (e) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case ESRCH -> "ESRCH"; case EINTR -> "EINTR";
            case EIO -> "EIO"; case ENXIO -> "ENXIO"; case E2BIG -> "E2BIG"; case ENOEXEC -> "ENOEXEC";
            case EBADF -> "EBADF"; case ECHILD -> "ECHILD"; case EAGAIN -> "EAGAIN"; case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES"; case EFAULT -> "EFAULT"; case EBUSY -> "EBUSY"; case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV"; case ENOTDIR -> "ENOTDIR"; case EISDIR -> "EISDIR"; case EINVAL -> "EINVAL";
            case ENFILE -> "ENFILE"; case EMFILE -> "EMFILE"; case ENOTTY -> "ENOTTY"; case EFBIG -> "EFBIG";
            case ENOSPC -> "ENOSPC"; case ESPIPE -> "ESPIPE"; case EROFS -> "EROFS"; case EPIPE -> "EPIPE";
            case ERANGE -> "ERANGE"; case ENOSYS -> "ENOSYS"; case ENOTEMPTY -> "ENOTEMPTY"; case ELOOP -> "ELOOP";
            case ENAMETOOLONG -> "ENAMETOOLONG"; case EOVERFLOW -> "EOVERFLOW"; case EOPNOTSUPP -> "EOPNOTSUPP";
            case ETIMEDOUT -> "ETIMEDOUT";
            case ERESTARTSYS -> "ERESTARTSYS"; case ERESTARTNOINTR -> "ERESTARTNOINTR";
            case ERESTARTNOHAND -> "ERESTARTNOHAND"; case ERESTART_RESTARTBLOCK -> "ERESTART_RESTARTBLOCK";
            default -> "errno " + e;
        };
    }

    public static String describe(int e) {
        return switch (e) {
            case EPERM -> "operation not permitted"; case ENOENT -> "no such file or directory";
            case ESRCH -> "no such process"; case EINTR -> "interrupted"; case EBADF -> "bad file descriptor";
            case ECHILD -> "no child process"; case EAGAIN -> "try again"; case ENOMEM -> "out of memory";
            case EACCES -> "permission denied"; case EFAULT -> "bad address"; case EBUSY -> "busy";
            case EEXIST -> "exists"; case EINVAL -> "invalid argument"; case ENOSPC -> "no space left on device";
            case ENOSYS -> "not implemented by this kernel"; case EIO -> "I/O error";
            default -> "see errno(3)";
        };
    }
}
