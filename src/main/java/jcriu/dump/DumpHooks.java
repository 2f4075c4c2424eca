package jcriu.dump;

import java.io.IOException;

/**
 * Points of a dump where its caller may act or stop it: CRIU's action scripts and RPC
 * notifications are built on these. Called on the dump's tracer thread; an exception fails the
 * dump, which then leaves the process running as before and no images behind.
 */
public interface DumpHooks {
    DumpHooks NONE = new DumpHooks() {};

    /** Every thread of the process is stopped; nothing has been read or changed yet. */
    default void frozen(int pid) throws IOException {}

    /**
     * The images are complete and durable; the process is still frozen and will be killed (or
     * left running) once this returns. Throwing here is CRIU's post-dump veto.
     */
    default void imagesWritten(int pid) throws IOException {}
}
