import java.nio.file.*;

/** Watches the directory a[0] with a WatchService (inotify) and prints every event it takes. */
public class Watcher {
    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[0]);
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
            System.out.println("watching " + dir);
            System.out.flush();
            while (true) {
                WatchKey k = ws.take();
                for (WatchEvent<?> e : k.pollEvents()) System.out.println("event " + e.kind().name() + " " + e.context());
                System.out.flush();
                k.reset();
            }
        }
    }
}
