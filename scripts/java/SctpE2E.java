// Java's SCTP API (com.sun.nio.sctp, over libsctp and the socket calls)
// under the shim, both ends in this one JVM. Run as `java SctpE2E.java PORT`.
//  1. one-to-one echo: 1000 messages over 5 streams with PPIDs, every third
//     unordered; every echo checked (stream, PPID, bytes, complete);
//  2. one-to-many: three clients send numbered messages; in the middle the
//     server branch()es the second one onto its own channel; every message
//     is received once, in order per client, on the right channel (the
//     branched association's on the new channel only);
//  3. notifications and shutdown(): COMM_UP on both sides, SHUTDOWN on the
//     side that did not call shutdown(), and the association's end
//     (ASSOC_CHANGE SHUTDOWN) on both.
// Prints "ok <part>" per part; exits non-zero on the first failure.

import com.sun.nio.sctp.*;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;

public class SctpE2E {
    static void check(boolean c, String what) {
        if (!c) {
            System.out.println("FAIL " + what);
            System.exit(1);
        }
    }

    /** Records the notifications it sees; returns to the caller on each. */
    static class Notes extends AbstractNotificationHandler<Object> {
        final List<String> seen = Collections.synchronizedList(new ArrayList<>());

        @Override
        public HandlerResult handleNotification(AssociationChangeNotification n, Object a) {
            seen.add("ASSOC_" + n.event());
            return HandlerResult.RETURN;
        }

        @Override
        public HandlerResult handleNotification(ShutdownNotification n, Object a) {
            seen.add("SHUTDOWN");
            return HandlerResult.RETURN;
        }

        @Override
        public HandlerResult handleNotification(Notification n, Object a) {
            seen.add(n.getClass().getSimpleName());
            return HandlerResult.RETURN;
        }
    }

    static InetSocketAddress at(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    static String text(ByteBuffer b) {
        b.flip();
        String s = StandardCharsets.UTF_8.decode(b).toString();
        b.clear();
        return s;
    }

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The next data message on `ch` (notifications go to `h`; a handled
     * notification makes receive return null). */
    static MessageInfo next(SctpChannel ch, ByteBuffer b, Notes h) throws Exception {
        for (;;) {
            MessageInfo mi = ch.receive(b, null, h);
            check(mi == null || mi.bytes() >= 0, "end of file before the next message");
            if (mi != null && b.position() > 0) return mi;
        }
    }

    static void oneToOne(int port) throws Exception {
        SctpServerChannel ssc = SctpServerChannel.open();
        ssc.bind(at(port));
        ExecutorService ex = Executors.newSingleThreadExecutor();
        Future<Integer> echo = ex.submit(() -> {
            SctpChannel s = ssc.accept();
            ByteBuffer b = ByteBuffer.allocate(4096);
            Notes h = new Notes();
            int n = 0;
            for (;;) {
                MessageInfo mi = s.receive(b, null, h);
                if (mi == null) {
                    // A notification: the peer's SHUTDOWN ends the echo.
                    if (h.seen.contains("SHUTDOWN") || h.seen.contains("ASSOC_SHUTDOWN")) break;
                    continue;
                }
                if (mi.bytes() == -1) break;
                check(mi.isComplete(), "server: message complete");
                b.flip();
                MessageInfo out = MessageInfo.createOutgoing(null, mi.streamNumber());
                out.payloadProtocolID(mi.payloadProtocolID());
                out.unordered(mi.isUnordered());
                s.send(b, out);
                b.clear();
                n++;
            }
            s.close();
            return n;
        });
        SctpChannel c = SctpChannel.open(at(port), 5, 5);
        ByteBuffer b = ByteBuffer.allocate(4096);
        Notes h = new Notes();
        // Streams are ordered each; unordered messages may overtake, so the
        // echoes are matched by content.
        Set<String> pending = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String m = "msg-" + i + "-" + "x".repeat(i % 300);
            MessageInfo out = MessageInfo.createOutgoing(null, i % 5);
            out.payloadProtocolID(100 + i % 7);
            out.unordered(i % 3 == 0);
            c.send(bytes(m), out);
            pending.add((i % 5) + "/" + (100 + i % 7) + "/" + m);
            if (i % 50 == 49) {
                for (int k = 0; k < 50; k++) {
                    MessageInfo mi = next(c, b, h);
                    String got = mi.streamNumber() + "/" + mi.payloadProtocolID() + "/" + text(b);
                    check(mi.isComplete(), "client: echo complete");
                    check(pending.remove(got), "client: unexpected echo " + got);
                }
            }
        }
        check(pending.isEmpty(), "client: every echo came back");
        check(h.seen.contains("ASSOC_COMM_UP"), "client: COMM_UP seen");
        c.close();
        int n = echo.get(20, TimeUnit.SECONDS);
        check(n == 1000, "server echoed " + n);
        ex.shutdown();
        ssc.close();
        System.out.println("ok one-to-one echo: 1000 messages, 5 streams, PPIDs, unordered");
    }

    static void oneToMany(int port) throws Exception {
        final int count = 300;
        SctpMultiChannel mc = SctpMultiChannel.open();
        mc.bind(at(port));
        SctpChannel[] cl = new SctpChannel[3];
        for (int k = 0; k < 3; k++) cl[k] = SctpChannel.open(at(port), 1, 1);
        // Each client: "c<k>:<i>", sent in steps so that the branch happens
        // while the second client still has messages on the way.
        ExecutorService ex = Executors.newFixedThreadPool(3);
        List<Future<?>> senders = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            final int kk = k;
            senders.add(ex.submit(() -> {
                for (int i = 0; i < count; i++) {
                    MessageInfo out = MessageInfo.createOutgoing(null, 0);
                    out.payloadProtocolID(7);
                    cl[kk].send(bytes("c" + kk + ":" + i), out);
                    if (i % 20 == 0) Thread.sleep(2);
                }
                return null;
            }));
        }
        int[] nextOf = new int[3];
        ByteBuffer b = ByteBuffer.allocate(4096);
        Notes h = new Notes();
        SctpChannel branched = null;
        Association second = null;
        int total = 0;
        long end = System.currentTimeMillis() + 30000;
        while (nextOf[0] < count || nextOf[2] < count || (branched == null && nextOf[1] < count)) {
            check(System.currentTimeMillis() < end, "one-to-many: timed out at " + Arrays.toString(nextOf));
            MessageInfo mi = mc.receive(b, null, h);
            if (mi == null) continue; // a notification
            String m = text(b);
            int k = m.charAt(1) - '0';
            int i = Integer.parseInt(m.substring(3));
            check(mi.association() != null, "one-to-many: message without association");
            check(i == nextOf[k], "one-to-many: client " + k + " message " + i + ", want " + nextOf[k]);
            check(mi.payloadProtocolID() == 7 && mi.isComplete(), "one-to-many: PPID and completeness");
            nextOf[k]++;
            total++;
            if (k == 1 && i == count / 3 && branched == null) {
                second = mi.association();
                branched = mc.branch(second);
            }
        }
        check(branched != null, "one-to-many: branched");
        // The rest of the second client's messages come on the branched
        // channel only.
        ByteBuffer bb = ByteBuffer.allocate(4096);
        Notes hb = new Notes();
        while (nextOf[1] < count) {
            MessageInfo mi = next(branched, bb, hb);
            String m = text(bb);
            check(m.startsWith("c1:"), "branched channel got " + m);
            int i = Integer.parseInt(m.substring(3));
            check(i == nextOf[1], "branched: message " + i + ", want " + nextOf[1]);
            nextOf[1]++;
            total++;
        }
        for (Future<?> f : senders) f.get(20, TimeUnit.SECONDS);
        // The multi channel holds nothing of the branched association.
        mc.configureBlocking(false);
        for (int tries = 0; tries < 1000; tries++) {
            int notes = h.seen.size();
            MessageInfo left = mc.receive(b, null, h);
            if (left == null && h.seen.size() == notes) break; // nothing left
            if (b.position() > 0) {
                String m = text(b);
                check(!m.startsWith("c1:"), "multi channel still had " + m);
            }
        }
        check(total == 3 * count, "one-to-many: " + total + " messages");
        for (SctpChannel c : cl) c.close();
        branched.close();
        mc.close();
        ex.shutdown();
        System.out.println("ok one-to-many: 3 clients x " + count + " messages, branch() mid-traffic");
    }

    static void shutdownNotes(int port) throws Exception {
        SctpServerChannel ssc = SctpServerChannel.open();
        ssc.bind(at(port));
        SctpChannel c = SctpChannel.open(at(port), 1, 1);
        SctpChannel s = ssc.accept();
        Notes hc = new Notes(), hs = new Notes();
        ByteBuffer b = ByteBuffer.allocate(1024);
        MessageInfo out = MessageInfo.createOutgoing(null, 0);
        c.send(bytes("last words"), out);
        c.shutdown();
        // The server: COMM_UP, the message, SHUTDOWN, then the end.
        MessageInfo mi = next(s, b, hs);
        check(text(b).equals("last words"), "shutdown: the last message");
        long end = System.currentTimeMillis() + 10000;
        while (!hs.seen.contains("ASSOC_SHUTDOWN") && System.currentTimeMillis() < end) {
            mi = s.receive(b, null, hs);
            if (mi != null && mi.bytes() == -1) break;
        }
        check(hs.seen.contains("ASSOC_COMM_UP"), "server: COMM_UP " + hs.seen);
        check(hs.seen.contains("SHUTDOWN"), "server: SHUTDOWN event " + hs.seen);
        check(hs.seen.contains("ASSOC_SHUTDOWN"), "server: association ended " + hs.seen);
        s.close();
        // The side that called shutdown() learns the end too.
        end = System.currentTimeMillis() + 10000;
        while (!hc.seen.contains("ASSOC_SHUTDOWN") && System.currentTimeMillis() < end) {
            mi = c.receive(b, null, hc);
            if (mi != null && mi.bytes() == -1) break;
        }
        check(hc.seen.contains("ASSOC_COMM_UP"), "client: COMM_UP " + hc.seen);
        check(hc.seen.contains("ASSOC_SHUTDOWN"), "client: association ended " + hc.seen);
        c.close();
        ssc.close();
        System.out.println("ok notifications and shutdown(): " + hs.seen + " / " + hc.seen);
    }

    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        oneToOne(port);
        oneToMany(port + 1);
        shutdownNotes(port + 2);
        System.exit(0);
    }
}
