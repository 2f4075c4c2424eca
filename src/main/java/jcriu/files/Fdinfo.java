package jcriu.files;

import java.io.IOException;
import java.util.Optional;

import jcriu.proc.FdInfo;

/** The kind-specific lines of /proc/PID/fdinfo/N ({@link FdInfo#extra()}), "key: value". */
final class Fdinfo {
    private Fdinfo() {}

    static Optional<String> value(FdInfo fd, String key) {
        for (String l : fd.extra()) {
            if (l.startsWith(key + ":")) return Optional.of(l.substring(key.length() + 1).strip());
        }
        return Optional.empty();
    }

    static String required(FdInfo fd, String key, String what) throws IOException {
        return value(fd, key).orElseThrow(() -> new IOException(what + ": its fdinfo has no '" + key + "' line"));
    }
}
