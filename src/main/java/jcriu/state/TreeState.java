package jcriu.state;

import java.util.List;
import java.util.Optional;

import jcriu.files.OpenFile;

/**
 * A checkpointed process tree: its live processes (the root first, every parent before its
 * children), its zombies, and what they share: the open file descriptions their fds refer
 * to, the pipes behind those, and the fd tables and fs information processes share.
 */
public record TreeState(List<ProcessState> processes, List<ZombieState> zombies, List<OpenFile> files,
                        List<PipeState> pipes, Sharing sharing) {
    /** A tree whose processes each have their own fd table and fs information. */
    public TreeState(List<ProcessState> processes, List<ZombieState> zombies, List<OpenFile> files,
                     List<PipeState> pipes) {
        this(processes, zombies, files, pipes, Sharing.NONE);
    }

    public TreeState {
        if (processes.isEmpty()) throw new IllegalArgumentException("a tree has at least its root process");
        processes = List.copyOf(processes);
        zombies = List.copyOf(zombies);
        files = List.copyOf(files);
        pipes = List.copyOf(pipes);
    }

    public ProcessState root() {
        return processes.getFirst();
    }

    public Optional<ProcessState> process(int pid) {
        return processes.stream().filter(p -> p.pid() == pid).findFirst();
    }

    public OpenFile file(int id) {
        return files.stream().filter(f -> f.id() == id).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no open file with id " + id));
    }

    /** Every PID and TID the restore must get back. */
    public List<Integer> allIds() {
        List<Integer> ids = new java.util.ArrayList<>();
        for (ProcessState p : processes) for (ThreadState t : p.threads()) ids.add(t.tid());
        for (ZombieState z : zombies) ids.add(z.pid());
        return ids;
    }
}
