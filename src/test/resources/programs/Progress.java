import java.nio.file.*;
public class Progress {
    public static void main(String[] a) throws Exception {
        Path f = Path.of(a[0]);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
        long[] c = new long[4];
        for (int i = 0; i < 4; i++) { final int k = i; Thread t = new Thread(() -> { while (true) { synchronized (c) { c[k]++; } try { Thread.sleep(20); } catch (InterruptedException e) { return; } } }); t.setDaemon(true); t.start(); }
        for (long n = 1; ; n++) {
            if (n % 10 == 0) System.gc();
            synchronized (c) { System.out.println("tick " + n + " " + c[0] + " " + c[1] + " " + c[2] + " " + c[3]); }
            Thread.sleep(100);
        }
    }
}
