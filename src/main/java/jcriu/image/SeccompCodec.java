package jcriu.image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;

import jcriu.image.pb.SeccompEntry;
import jcriu.image.pb.SeccompFilter;
import jcriu.state.ProcessAttrs.ThreadAttrs;
import jcriu.state.ProcessState;
import jcriu.state.Seccomp;
import jcriu.state.TreeState;

/**
 * seccomp.img, as CRIU writes it: one list of filters for the whole tree. A thread's core
 * names the first filter to install (its oldest), and each filter names the next one to
 * install after it ({@code prev}, CRIU's name): each thread's chain is written newest first,
 * so that it links backwards. Whether threads share a filter is not in the images; the
 * restore finds equal oldest filters in every thread (see restore/SeccompStage).
 */
public final class SeccompCodec {
    private SeccompCodec() {}

    /** Writes seccomp.img when some thread has filters; returns each such thread's first filter index. */
    public static Map<Integer, Integer> write(ImageDir dir, TreeState tree) throws IOException {
        SeccompEntry.Builder all = SeccompEntry.newBuilder();
        Map<Integer, Integer> first = new HashMap<>();
        for (ProcessState p : tree.processes()) {
            for (ThreadAttrs t : p.attrs().threads()) {
                List<Seccomp.Filter> f = t.seccomp().filters();
                for (int i = f.size() - 1; i >= 0; i--) {
                    SeccompFilter.Builder e = SeccompFilter.newBuilder().setFilter(ByteString.copyFrom(f.get(i).program()))
                            .setFlags(f.get(i).flags());
                    if (i < f.size() - 1) e.setPrev(all.getSeccompFiltersCount() - 1);
                    all.addSeccompFilters(e);
                }
                if (!f.isEmpty()) first.put(t.tid(), all.getSeccompFiltersCount() - 1);
            }
        }
        if (all.getSeccompFiltersCount() > 0) {
            try (ImageOutput o = dir.create(ImageFile.seccomp())) {
                o.write(all.build());
            }
        }
        return first;
    }

    /** The filters of seccomp.img (empty when there is none). */
    public static List<SeccompFilter> read(ImageDir dir) throws IOException {
        if (!dir.exists(ImageFile.seccomp())) return List.of();
        try (ImageInput in = dir.open(ImageFile.seccomp())) {
            return in.single(SeccompEntry.parser()).getSeccompFiltersList();
        }
    }

    /** The chain starting at {@code first}, in the order of installation (oldest first). */
    public static List<Seccomp.Filter> chain(ImageDir dir, List<SeccompFilter> all, int tid, int first) throws IOException {
        List<Seccomp.Filter> filters = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        int at = first;
        while (true) {
            if (at < 0 || at >= all.size() || indices.size() > all.size()) {
                throw new ImageException(dir.path().resolve(ImageFile.seccomp().name()), 0, "thread " + tid
                        + " names seccomp filter " + at + " of " + all.size() + (indices.isEmpty() ? "" : " (as the"
                        + " one after filter " + indices.getLast() + ")") + ", which the image does not hold");
            }
            SeccompFilter f = all.get(at);
            if (f.getFilter().size() == 0 || f.getFilter().size() % 8 != 0) {
                throw new ImageException(dir.path().resolve(ImageFile.seccomp().name()), 0, "seccomp filter " + at
                        + " is " + f.getFilter().size() + " bytes, not a list of 8-byte instructions");
            }
            filters.add(new Seccomp.Filter(f.getFilter().toByteArray(), f.getFlags()));
            indices.add(at);
            if (!f.hasPrev()) return filters;
            at = f.getPrev();
        }
    }
}
