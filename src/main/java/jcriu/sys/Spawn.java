package jcriu.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * posix_spawn through FFM. jcriu never ptraces a ProcessBuilder child (the JDK's
 * reaper would steal its stops), so processes it traces are started here.
 */
public final class Spawn {
    private static final Linker L = Sys.linker();
    private static final MethodHandle POSIX_SPAWN = fn("posix_spawn", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_INIT = fn("posix_spawnattr_init",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_DESTROY = fn("posix_spawnattr_destroy",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = fn("posix_spawnattr_setflags",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = fn("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = fn("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    // glibc's flag values (spawn.h).
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    // Generous sizes for glibc's opaque types (336 bytes and 128 bytes on x86_64).
    private static final long ATTR_SIZE = 1024, SIGSET_SIZE = 128;

    private Spawn() {}

    private static MethodHandle fn(String name, FunctionDescriptor d) {
        return L.downcallHandle(L.defaultLookup().find(name).orElseThrow(), d);
    }

    /**
     * Starts {@code path} with the given argv and environment, all signals at their
     * default disposition and none blocked (the JVM blocks and ignores some). Returns the PID.
     */
    public static int spawn(String path, List<String> argv, List<String> env) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 16);
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            try {
                MemorySegment empty = arena.allocate(SIGSET_SIZE, 8);
                MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
                all.set(ValueLayout.JAVA_LONG, 0, -1L);
                check("posix_spawnattr_setsigmask", (int) ATTR_SETSIGMASK.invokeExact(attr, empty));
                check("posix_spawnattr_setsigdefault", (int) ATTR_SETSIGDEFAULT.invokeExact(attr, all));
                check("posix_spawnattr_setflags",
                        (int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
                MemorySegment pid = arena.allocate(4, 4);
                int rc = (int) POSIX_SPAWN.invokeExact(pid, arena.allocateFrom(path), MemorySegment.NULL, attr,
                        strings(arena, argv), strings(arena, env));
                if (rc != 0) throw new SysException("posix_spawn(" + path + ")", rc, null);
                return pid.get(ValueLayout.JAVA_INT, 0);
            } finally {
                int ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("posix_spawn could not be invoked", t);
        }
    }

    private static MemorySegment strings(Arena arena, List<String> list) {
        MemorySegment arr = arena.allocate(8L * (list.size() + 1), 8);
        for (int i = 0; i < list.size(); i++) {
            arr.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(list.get(i)));
        }
        arr.setAtIndex(ValueLayout.ADDRESS, list.size(), MemorySegment.NULL);
        return arr;
    }

    private static void check(String what, int rc) {
        if (rc != 0) throw new SysException(what, rc, null);
    }
}
