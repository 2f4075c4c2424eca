package jcriu.restore;

import jcriu.api.Log;
import jcriu.inject.Injector;
import jcriu.ptrace.TaskMemory;
import jcriu.ptrace.Tracer;
import jcriu.state.ProcessState;

/**
 * A process being rebuilt, as every restore stage sees it: its saved state, an injector in
 * its leader (gadget and stack in the control area), its memory and the control area that
 * holds the arguments of injected calls.
 */
record Target(Tracer tracer, ProcessState st, Injector inj, TaskMemory mem, ControlArea ctl, Log log) {
    int pid() {
        return st.pid();
    }

    /** Writes {@code s} as a C string into the control area and returns its address. */
    long string(String s) throws java.io.IOException {
        byte[] b = ControlArea.cString(s);
        long a = ctl.alloc(b.length);
        mem.write(a, b);
        return a;
    }
}
