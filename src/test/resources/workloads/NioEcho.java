import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.*;

/** A JVM NIO echo server (a Selector: epoll and an eventfd), for the socket tests: prints "listening", then echoes "echo LINE". */
public class NioEcho {
    public static void main(String[] a) throws Exception {
        Selector sel = Selector.open();
        ServerSocketChannel ss = ServerSocketChannel.open();
        ss.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(a[0])));
        ss.configureBlocking(false);
        ss.register(sel, SelectionKey.OP_ACCEPT);
        System.out.println("listening");
        while (true) {
            sel.select();
            for (SelectionKey k : sel.selectedKeys()) {
                if (k.isAcceptable()) {
                    SocketChannel c = ss.accept();
                    if (c != null) { c.configureBlocking(false); c.register(sel, SelectionKey.OP_READ); }
                } else if (k.isReadable()) {
                    SocketChannel c = (SocketChannel) k.channel();
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    int n = c.read(b);
                    if (n < 0) { k.cancel(); c.close(); continue; }
                    b.flip();
                    ByteBuffer out = ByteBuffer.allocate(5 + b.remaining());
                    out.put("echo ".getBytes()).put(b).flip();
                    while (out.hasRemaining()) c.write(out);
                }
            }
            sel.selectedKeys().clear();
        }
    }
}
