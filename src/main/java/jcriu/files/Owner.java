package jcriu.files;

import java.io.IOException;

import jcriu.image.pb.FownEntry;
import jcriu.sys.FdSys;
import jcriu.sys.Nr;
import jcriu.sys.Sys;

/**
 * Who gets SIGIO (or {@code signal}, F_SETSIG) for a description opened with O_ASYNC:
 * {@code type} F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP and its id (F_SETOWN_EX). Stored in
 * CRIU's fown entry; set again inside the restored process once its fds are in place.
 */
public record Owner(int type, int pid, int signal) {
    public static final Owner NONE = new Owner(0, 0, 0);
    static final int O_ASYNC = 020000;

    /** The owner of the description behind {@code fd} of the saved process, asked only when O_ASYNC is set. */
    static Owner save(SaveContext ctx, int fd, int flags) throws IOException {
        if ((flags & O_ASYNC) == 0) return NONE;
        int mine = ctx.borrow(fd);
        try {
            int[] own = FdSys.getOwnEx(mine);
            int sig = (int) Sys.fcntl(mine, FdSys.F_GETSIG, 0);
            return new Owner(own[0], own[1], sig);
        } finally {
            Sys.close(mine);
        }
    }

    static Owner decode(FownEntry f) {
        return new Owner(f.getPidType(), f.getPid(), f.getSignum());
    }

    FownEntry encode() {
        return FownEntry.newBuilder().setUid(0).setEuid(0).setSignum(signal).setPidType(type).setPid(pid).build();
    }

    /**
     * Sets it inside the process on its first fd of description {@code id}, then O_ASYNC
     * ({@code flags} are the description's): the kernel registers a description for SIGIO when
     * O_ASYNC is turned on by fcntl, never by open(2), under the fd number that did it, which
     * the signal then carries as si_fd. The owner's credentials are the process's, as when it
     * set them itself. Descriptions are opened without O_ASYNC for this.
     */
    void apply(ProcessFiles p, int id, int flags, String what) throws IOException {
        if ((flags & O_ASYNC) == 0 && equals(NONE)) return;
        int fd = p.fdsOf(id).getFirst();
        String at = what + " (fd " + fd + " of process " + p.pid() + ")";
        if (pid != 0) {
            long o = p.put(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(type)
                    .putInt(pid).array());
            p.call("fcntl(F_SETOWN_EX, " + pid + ") on " + at, Nr.FCNTL, fd, FdSys.F_SETOWN_EX, o);
        }
        if (signal != 0) p.call("fcntl(F_SETSIG, " + signal + ") on " + at, Nr.FCNTL, fd, FdSys.F_SETSIG, signal);
        if ((flags & O_ASYNC) != 0) p.call("fcntl(F_SETFL, O_ASYNC) on " + at, Nr.FCNTL, fd, Sys.F_SETFL, flags);
        p.log(at + ": owner " + type + ":" + pid + ", signal " + signal + ", O_ASYNC " + ((flags & O_ASYNC) != 0));
    }
}
