package jcriu.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import jcriu.testsupport.Gcc;
import jcriu.testsupport.Sig;
import jcriu.testsupport.Trees;
import jcriu.testsupport.Workload;

/**
 * memfds are one object per inode, not per name. The workload checks itself (content through
 * fd and mapping, seals, size, which object a write lands in); the kernel is the oracle: the
 * same checks pass on the run stopped and continued, and must pass after a restore.
 */
class MemfdsTest {
    /** Two memfds of one name, different contents and seals, each mapped shared: still two after restore. */
    @Test
    void twoMemfdsOfOneNameStayTwo() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memfds"), "twins")) {
            w.awaitOutput("ready pid=");
            assertEquals("check ok", check(w), "the oracle: " + w.text());
            w.stopAndContinue(Duration.ofMillis(200));
            assertEquals("check ok", check(w), "stopped and continued: " + w.text());
            try (Workload r = Trees.cycle(w)) {
                assertEquals("check ok", check(r), r.text());
                assertEquals("check ok", check(r), r.text());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    /**
     * A memfd made by a parent, inherited by its child, mapped shared in both (the child maps it
     * again too): one object after restore, a write by the parent seen by the child, the
     * child's answer seen by the parent through its mapping and its fd, content and seals kept.
     */
    @Test
    void aMemfdSharedByAParentAndItsChildStaysOneObject() throws Exception {
        try (Workload w = Workload.start(Gcc.compile("memfds"), "shared")) {
            w.awaitOutput("ready pid=");
            Trees.awaitMembers(w.pid(), 2);
            assertEquals("check ok", check(w), "the oracle: " + w.text());
            w.stopAndContinue(Duration.ofMillis(200));
            assertEquals("check ok", check(w), "stopped and continued: " + w.text());
            try (Workload r = Trees.cycle(w)) {
                assertEquals(2, Trees.members(r.pid()).size(), "parent and child restored");
                assertEquals("check ok", check(r), r.text());
                assertEquals("check ok", check(r), r.text());
                r.signal(Sig.SIGTERM);
                r.awaitOutput("exit code=0");
            }
        }
    }

    private static String check(Workload w) {
        w.signal(Sig.SIGUSR1);
        return w.awaitOutput("^check ").strip();
    }
}
