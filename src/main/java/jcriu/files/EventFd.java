package jcriu.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import jcriu.image.ImageException;
import jcriu.image.pb.EventfdFileEntry;
import jcriu.image.pb.FdTypes;
import jcriu.image.pb.FileEntry;
import jcriu.proc.FdInfo;
import jcriu.sys.FdSys;
import jcriu.sys.Sys;

/** An eventfd: its counter, EFD_SEMAPHORE and its flags (O_NONBLOCK). */
public record EventFd(int id, int flags, long counter, boolean semaphore) implements OpenFile {
    private static final int EFD_SEMAPHORE = 1;

    static EventFd save(int id, String what, FdInfo fd) throws IOException {
        String count = Fdinfo.required(fd, "eventfd-count", what);
        // "eventfd-semaphore" appeared in Linux 6.4; before, the flag cannot be seen (CRIU loses it too)
        boolean sem = Fdinfo.value(fd, "eventfd-semaphore").map(v -> v.equals("1")).orElse(false);
        return new EventFd(id, fd.flags() & ~O_CLOEXEC, Long.parseUnsignedLong(count, 16), sem);
    }

    static EventFd decode(FileEntry e, Path where, long offset) throws IOException {
        if (!e.hasEfd()) throw new ImageException(where, offset, "file " + e.getId() + " of type EVENTFD has no efd entry");
        var x = e.getEfd();
        return new EventFd(e.getId(), x.getFlags() & ~O_CLOEXEC, x.getCounter(), x.getJcriuSemaphore());
    }

    @Override
    public String describe() {
        return "anon_inode:[eventfd]";
    }

    @Override
    public FileEntry encode() {
        var x = EventfdFileEntry.newBuilder().setId(id).setFlags(flags).setFown(NO_OWNER).setCounter(counter);
        if (semaphore) x.setJcriuSemaphore(true);
        return FileEntry.newBuilder().setType(FdTypes.EVENTFD).setId(id).setEfd(x).build();
    }

    /** eventfd2 takes a 32-bit start value; the 64-bit counter is written instead (a write adds to it). */
    @Override
    public int open(FileOpener opener) throws IOException {
        int fd = FdSys.eventfd(O_CLOEXEC | (semaphore ? EFD_SEMAPHORE : 0));
        try {
            if (counter != 0) {
                Sys.write(fd, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(counter).array());
            }
            Sys.fcntl(fd, Sys.F_SETFL, flags);
        } catch (RuntimeException e) {
            Sys.close(fd);
            throw e;
        }
        return fd;
    }
}
