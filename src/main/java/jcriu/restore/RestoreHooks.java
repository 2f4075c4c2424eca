package jcriu.restore;

import java.io.IOException;

/**
 * Points of a restore where its caller may act or stop it (CRIU's action scripts and RPC
 * notifications). Called on the restore's tracer thread; an exception fails the restore, which
 * then leaves nothing of it running.
 */
public interface RestoreHooks {
    RestoreHooks NONE = new RestoreHooks() {};

    /**
     * The process is fully restored and still stopped under jcriu's control, before it runs a
     * single instruction of its own (CRIU's post-restore and pre-resume).
     */
    default void beforeResume(int pid) throws IOException {}
}
