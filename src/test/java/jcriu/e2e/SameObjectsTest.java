package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
