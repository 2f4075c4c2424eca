package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Checkpoints;
import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Workload;

/**
 * sameobjects.c holds state that a restore can get wrong while the process goes on as if
 * nothing happened: each test compares what the process sees before the dump with what it
 * sees after the restore (or, where the restore must differ, with what it must see).
 */
class SameObjectsTest {

    /** Droppable memory may be emptied by the kernel at any moment; a restore empties it. */
    @Test
    void droppableMemoryComesBackEmpty() throws Exception {
        try (Workload w = start("droppable")) {
            assertEquals("obs droppable nonzero=16384", obs(w, "droppable"));
            try (Workload r = Checkpoints.cycle(w)) {
                assertEquals("obs droppable nonzero=0", obs(r, "droppable"), "droppable pages are not saved");
                exit(r);
            }
        }
    }

    /**
     * A memfd whose fd from memfd_create is its only read-write description (a read-only
     * one and two mappings beside it) can be run with execveat() after the restore as before.
     */
    @Test
    void aMemfdCanStillBeExecuted() throws Exception {
        try (Workload w = start("memfdexec")) {
            assertEquals("obs memfdexec exec=0", obs(w, "memfdexec"));
            try (Workload r = Checkpoints.cycle(w)) {
                assertEquals("obs memfdexec exec=0", obs(r, "memfdexec"), "execveat() of the memfd (26: ETXTBSY)");
                exit(r);
            }
        }
    }

    /**
     * Two fds opened by two names of one file, both names unlinked, are on one inode again;
     * an fd whose name was unlinked while another name of its file stays is on that file
     * again, not on a copy.
     */
    @Test
    void hardLinkedDeletedFilesStayOneFile() throws Exception {
        try (Workload w = start("links")) {
            String before = obs(w, "links");
            assertEquals("obs links same=1 size=1000 nlink=0 kept=1 knlink=1 dsize=700", before);
            try (Workload r = Checkpoints.cycle(w)) {
                assertEquals(before, obs(r, "links"), "which inode each fd is on");
                assertEquals(java.util.List.of("d.dat", "output.log", "workload.pid"), GhostFilesTest.names(w.dir()),
                        "no name left behind");
                exit(r);
            }
        }
    }

    /**
     * Shared anonymous memory held through an fd from /proc/PID/map_files and mapped private
     * from it: jcriu cannot make those two again on the same memory, so the dump is refused,
     * naming it, and the process runs on unharmed.
     */
    @Test
    void sharedAnonymousMemoryOpenedByFdIsRefused() throws Exception {
        try (Workload w = start("shmem")) {
            String before = obs(w, "shmem");
            assertEquals("obs shmem p0=2 p1=22 s0=3 tracks=1 writes=1", before);
            java.nio.file.Path dir = Checkpoints.imageDir(w);
            var e = assertThrows(jcriu.dump.Checkpointer.DumpException.class, () -> jcriu.dump.Checkpointer.dump(
                    new jcriu.dump.DumpOptions(w.pid(), dir, false, false), Checkpoints.log(new java.io.ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("shared anonymous memory"), e.getMessage());
            try (var s = java.nio.file.Files.list(dir)) {
                assertEquals(0, s.count(), "a refused dump leaves no images");
            }
            assertEquals(before, obs(w, "shmem"), "the process runs on with its memory");
            exit(w);
        }
    }

    private static Workload start(String mode) {
        Workload w = Workload.start(Gcc.compile("sameobjects"), mode);
        w.awaitOutput("^ready ");
        return w;
    }

    private static String obs(Workload w, String mode) {
        w.skipToEnd();
        w.signal(Sig.SIGUSR1);
        return w.awaitOutput("^obs " + mode + " ");
    }

    private static void exit(Workload r) {
        r.signal(Sig.SIGTERM);
        r.awaitOutput("exit code=0");
    }
}
