package jcriu.image;

import com.google.protobuf.MessageLite;
import com.google.protobuf.MessageOrBuilder;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Writes one image file: the magic header, then entries, each a u32
 * little-endian length followed by the serialized message. Obtain one from
 * {@link ImageDir#create(ImageFile)}. Not thread-safe.
 */
public final class ImageOutput implements Closeable {
    private final Path file;
    private final FileChannel channel;
    private final OutputStream out;
    private boolean closed;

    ImageOutput(Path file, Magic magic, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
        try {
            if (magic.prefix() != 0) {
                writeU32(magic.prefix());
            }
            writeU32(magic.value());
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /**
     * Appends one entry. A message lacking a proto2 required field is refused:
     * CRIU and crit would reject the whole file.
     */
    public void write(MessageLite message) throws IOException {
        if (closed) {
            throw new IllegalStateException(file + ": already closed");
        }
        if (!message.isInitialized()) {
            String missing = message instanceof MessageOrBuilder m
                    ? m.findInitializationErrors().toString() : "some required fields";
            throw new IllegalArgumentException(file + ": " + message.getClass().getSimpleName()
                    + " lacks required fields " + missing);
        }
        writeU32(message.getSerializedSize());
        message.writeTo(out);
    }

    /** Appends bytes that belong to the previous entry (pipe contents), as CRIU lays them out. */
    public void writeRaw(byte[] data) throws IOException {
        if (closed) {
            throw new IllegalStateException(file + ": already closed");
        }
        out.write(data);
    }

    /**
     * Flushes and closes. Not durable yet: {@link ImageDir#syncDir} makes every image of the
     * directory durable together (an fsync at each close cost a journal commit per file,
     * which made the dump of a 512-thread process spend 0.6 s on its 512 core files).
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (channel) {
            out.flush();
        }
    }

    private void writeU32(int v) throws IOException {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }
}
