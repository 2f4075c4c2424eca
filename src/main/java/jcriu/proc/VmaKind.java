package jcriu.proc;

/** What a mapping is, as far as dumping and recreating it is concerned; see {@link Vma#kind()}. */
public enum VmaKind {
    /** MAP_PRIVATE|MAP_ANONYMOUS, including named {@code [anon:...]} and thread stacks. */
    ANON_PRIVATE,
    /** MAP_SHARED|MAP_ANONYMOUS: shown as {@code /dev/zero (deleted)} or {@code [anon_shmem:...]}. */
    ANON_SHARED,
    FILE_PRIVATE,
    FILE_SHARED,
    HEAP,
    /** The main thread's stack only; the kernel names no other stack. */
    STACK,
    VDSO,
    VVAR,
    VVAR_VCLOCK,
    VSYSCALL,
    /** A System V shared memory segment attached with shmat ({@code /SYSV0000002a (deleted)}). */
    SYSV_SHM,
    /** An io_setup ring ({@code /[aio] (deleted)}). */
    AIO_RING,
    /** The uprobes out-of-line single-step area. */
    UPROBES,
    /** Anything else: anon_inode mappings (perf, io_uring, ...), unknown bracketed names. */
    OTHER
}
