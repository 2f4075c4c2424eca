package jcriu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * CRIU's command-line syntax and configuration files (criu/config.c of CRIU 4.2), and what
 * jcriu does with each option: no processes involved.
 */
class CriuCommandLineTest {
    @TempDir
    Path tmp;

    private CriuCommandLine.Env noConfig() {
        return new CriuCommandLine.Env(tmp.resolve("none/default.conf"), tmp.resolve("nohome"), null);
    }

    private CriuCommandLine.Outcome interpret(String... args) {
        return CriuCommandLine.interpret(List.of(args), noConfig());
    }

    private CriuCommandLine.Run run(String... args) {
        CriuCommandLine.Outcome o = interpret(args);
        return assertInstanceOf(CriuCommandLine.Run.class, o, () -> String.join(" ", args) + " gave " + o);
    }

    private CriuCommandLine.Fail fail(String... args) {
        CriuCommandLine.Outcome o = interpret(args);
        return assertInstanceOf(CriuCommandLine.Fail.class, o, () -> String.join(" ", args) + " gave " + o);
    }

    /** The command object picocli fills from the canonical tokens. */
    private static Main.Dump dump(CriuCommandLine.Run r) {
        Main.Dump d = new Main.Dump();
        new CommandLine(d).parseArgs(r.tokens().subList(1, r.tokens().size()).toArray(String[]::new));
        return d;
    }

    @Test
    void verbosityFollowsCriu() {
        assertEquals(2, dump(run("dump", "-t", "1")).log.verbosity, "default: warnings");
        assertEquals(3, dump(run("dump", "-t", "1", "-v")).log.verbosity, "-v adds one");
        assertEquals(4, dump(run("dump", "-t", "1", "-vv")).log.verbosity, "-vv adds two");
        assertEquals(5, dump(run("dump", "-t", "1", "-v", "-vv")).log.verbosity);
        assertEquals(4, dump(run("dump", "-t", "1", "-v4")).log.verbosity);
        assertEquals(4, dump(run("dump", "-t", "1", "--verbosity=4")).log.verbosity);
        assertEquals(3, dump(run("dump", "-t", "1", "--verbosity")).log.verbosity);
        assertEquals(1, dump(run("dump", "-t", "1", "-v4", "-v1")).log.verbosity, "the last -vN wins");
        // zdtm's feature probe writes -verbosity=0: getopt reads -v with the argument "erbosity=0", atoi 0
        assertEquals(0, dump(run("dump", "-t", "1", "-verbosity=0")).log.verbosity);
        // an optional argument must be attached: "4" becomes an operand, which dump does not take
        CriuCommandLine.Fail f = fail("dump", "-t", "1", "-v", "4");
        assertTrue(f.message().contains("excessive parameter"), f.message());
        assertEquals(Main.USAGE, f.exitCode());
    }

    @Test
    void getoptSpellings() {
        Main.Dump d = dump(run("-v4", "--leave-run", "dump", "-t123", "-D/imgs", "-Rj", "-o", "d.log"));
        assertEquals(123, d.pid);
        assertEquals(Path.of("/imgs"), d.dir);
        assertTrue(d.leaveRunning, "--leave-run is an unambiguous prefix of --leave-running");
        assertTrue(d.shellJob, "-Rj is a cluster");
        assertEquals(4, d.log.verbosity, "options before the command count");
        assertEquals("d.log", d.log.logFile);
        assertFalse(dump(run("dump", "-t", "1", "-j", "--no-shell-job")).shellJob, "--no-NAME turns it off again");
        assertTrue(dump(run("dump", "-t", "1", "--no-shell-job", "-j")).shellJob);
        assertEquals(Path.of("."), dump(run("dump", "-t", "1")).dir, "CRIU's default images directory");
        assertTrue(fail("dump", "-t", "1", "--d").message().contains("ambiguous"));
        assertTrue(fail("dump", "-t", "1", "--no-such").message().contains("unrecognized option '--no-such'"));
        assertTrue(fail("dump", "-t", "1", "--tree").message().contains("requires an argument"));
        assertTrue(fail("dump", "-t", "x").message().contains("invalid argument for --tree"));
        assertTrue(fail("dump", "-t", "1", "--leave-running=yes").message().contains("doesn't allow an argument"));
        Main.Dump both = dump(run("dump", "-t", "1", "-s", "-R"));
        assertTrue(both.leaveRunning && !both.leaveStopped, "the later of -s and -R wins, one final state in CRIU");
        Main.Dump both2 = dump(run("dump", "-t", "1", "-R", "-s"));
        assertTrue(!both2.leaveRunning && both2.leaveStopped);
        assertEquals(7, dump(run("dump", "-t", "1", "--timeout", "7")).timeout);
        assertEquals(0, dump(run("dump", "-t", "1", "--timeout=0")).timeout);
    }

    @Test
    void commands() {
        assertInstanceOf(CriuCommandLine.Help.class, interpret("dump", "-t", "1", "--help"));
        assertInstanceOf(CriuCommandLine.Version.class, interpret("-V"));
        assertInstanceOf(CriuCommandLine.Version.class, interpret("dump", "--version"));
        assertEquals(Main.USAGE, fail().exitCode());
        assertTrue(fail("page-server").message().contains("no \"page-server\" command"));
        assertTrue(fail("lazy-pages").message().contains("lazy"));
        assertTrue(fail("frobnicate").message().contains("unknown command: frobnicate"));
        assertInstanceOf(CriuCommandLine.Own.class, interpret("rseq", "-t", "1"));
        assertEquals(List.of("restore", "--images-dir=d", "--restore-detached"),
                run("restore", "-D", "d", "--daemon").tokens(), "--daemon is CRIU's other name for -d");
    }

    @Test
    void refusedOptionsAreNamedAndExitWith2() {
        CriuCommandLine.Fail f = fail("dump", "-t", "1", "--page-server", "--auto-dedup");
        assertEquals(Main.USAGE, f.exitCode());
        assertTrue(f.message().contains("--page-server: jcriu has no page server"), f.message());
        assertTrue(f.message().contains("--auto-dedup"), f.message());
        assertTrue(fail("dump", "-t", "1", "--manage-cgroups").message().contains("--manage-cgroups"),
                "bare --manage-cgroups is CRIU's soft mode: refused");
        assertTrue(fail("dump", "-t", "1", "--manage-cgroups=full").message().contains("only --manage-cgroups=ignore"));
        assertTrue(fail("dump", "-t", "1", "--manage-cgroups=bogus").message().contains("unknown cgroups mode"));
        assertTrue(fail("dump", "-t", "1", "--external", "file[12:345]").message().contains("file[12:345]"));
        assertTrue(fail("dump", "-t", "1", "--root", "/srv/ct").message().contains("another root"));
        assertTrue(run("restore", "--inherit-fd", "fd[3]:pipe:[123]").tokens().contains("--inherit-fd=fd[3]:pipe:[123]"),
                "--inherit-fd reaches the restore");
        assertTrue(fail("dump", "-t", "1", "--inherit-fd", "fd[3]:pipe[123]").message().contains("restore option"));
        assertTrue(fail("restore", "--lazy-pages").message().contains("lazy"));
        assertTrue(fail("restore", "--cpu-cap").message().contains("--cpu-cap"), "CRIU's default cap set: refused");
        assertTrue(fail("dump", "-t", "1", "--pre-dump-mode", "fast").message().contains("--pre-dump-mode"));
        // turned off again: nothing to refuse
        run("dump", "-t", "1", "--page-server", "--no-page-server");
    }

    @Test
    void optionsWithNoEffectAreAcceptedAndLogged() {
        CriuCommandLine.Run r = run("dump", "-t", "1", "--file-locks",
                "--link-remap", "--track-mem", "--manage-cgroups=ignore", "--external", "mnt[/dev]:ZDTM_DEV",
                "--root", "/", "--cpu-cap=none", "--pidfile", "x.pid", "--log-pid");
        String notes = String.join("\n", r.notes());
        for (String o : List.of("--link-remap", "--track-mem",
                "--manage-cgroups=ignore", "--external=mnt[/dev]:ZDTM_DEV", "--root=/", "--cpu-cap=none",
                "--log-pid")) {
            assertTrue(notes.contains(o + ": accepted with no effect"), o + " in\n" + notes);
        }
        assertTrue(notes.contains("--pidfile: no effect on dump (CRIU ignores it there too)"), notes);
        assertTrue(dump(r).fileLocks, "--file-locks reaches the dump");
    }

    /**
     * CRIU's --network-lock: nftables (jcriu's way, CRIU's table name) and skip reach the dump;
     * iptables is refused by name; a restore ignores it (the inventory decides), as CRIU's does.
     */
    @Test
    void networkLockMethodsJcriuHonoursReachTheDumpAndIptablesIsRefused() {
        assertFalse(dump(run("dump", "-t", "1", "--network-lock", "nftables")).options().net().skipLock());
        assertTrue(dump(run("dump", "-t", "1", "--network-lock=skip")).options().net().skipLock());
        assertTrue(dump(run("dump", "-t", "1", "--network-lock=none")).options().net().skipLock());
        assertFalse(dump(run("dump", "-t", "1")).options().net().skipLock(), "nftables by default");
        CriuCommandLine.Fail f = fail("dump", "-t", "1", "--network-lock", "iptables");
        assertTrue(f.message().contains("--network-lock") && f.message().contains("iptables"), f.message());
        assertTrue(fail("dump", "-t", "1", "--network-lock", "ebtables").message().contains("ebtables"));
        String notes = String.join("\n", run("restore", "--network-lock", "iptables").notes());
        assertTrue(notes.contains("--network-lock"), notes);
        run("pre-dump", "-t", "1", "--network-lock", "iptables");
    }

    @Test
    void socketFlagsReachTheCommand() {
        CriuCommandLine.Run r = run("dump", "-t", "1", "--tcp-established", "--ext-unix-sk", "--tcp-close",
                "--skip-in-flight");
        for (String o : List.of("--tcp-established", "--ext-unix-sk", "--tcp-close", "--skip-in-flight")) {
            assertTrue(r.tokens().contains(o), o + " in " + r.tokens());
        }
    }

    @Test
    void configFilesInCriusOrder() throws IOException {
        Path global = tmp.resolve("etc/default.conf");
        Path home = tmp.resolve("home");
        Files.createDirectories(global.getParent());
        Files.createDirectories(home.resolve(".criu"));
        Files.writeString(global, "# global\nverbosity=1\nshell-job\nimages-dir /from-global\n");
        Files.writeString(home.resolve(".criu/default.conf"), "  images-dir \"/from user\"   # quoted, spaces\n");
        Path env = tmp.resolve("env.conf");
        Files.writeString(env, "leave-running\n");
        Path cfg = tmp.resolve("cfg.conf");
        Files.writeString(cfg, "timeout 3\n");
        CriuCommandLine.Env e = new CriuCommandLine.Env(global, home, env.toString());

        Main.Dump d = dump((CriuCommandLine.Run) CriuCommandLine.interpret(List.of("dump", "-t", "1"), e));
        assertEquals(1, d.log.verbosity, "verbosity=1 attaches the value, as getopt reads --verbosity=1");
        assertTrue(d.shellJob);
        assertEquals(Path.of("/from user"), d.dir, "the user's file overrides the global one");
        assertTrue(d.leaveRunning, "CRIU_CONFIG_FILE is read");
        assertEquals(10, d.timeout);

        d = dump((CriuCommandLine.Run) CriuCommandLine.interpret(List.of("dump", "-t", "1", "-D", "/argv"), e));
        assertEquals(Path.of("/argv"), d.dir, "the command line comes last");

        d = dump((CriuCommandLine.Run) CriuCommandLine.interpret(List.of("--no-default-config", "dump", "-t", "1"), e));
        assertFalse(d.shellJob, "--no-default-config skips the default files");
        assertEquals(Path.of("."), d.dir);
        assertTrue(d.leaveRunning, "but not CRIU_CONFIG_FILE");

        d = dump((CriuCommandLine.Run) CriuCommandLine.interpret(List.of("dump", "-t", "1", "--config", cfg.toString()),
                e));
        assertEquals(3, d.timeout);
        assertFalse(d.shellJob, "--config FILE skips the default files too");

        // an option jcriu refuses, set in a config file, names the file
        Files.writeString(env, "tcp-established\nlazy-pages\n");
        CriuCommandLine.Fail f = (CriuCommandLine.Fail) CriuCommandLine.interpret(List.of("dump", "-t", "1"), e);
        assertTrue(f.message().contains("--lazy-pages (from config file " + env + ")"), f.message());

        // "verbosity 4": an optional argument after a space is not attached, as with CRIU; and said so
        Files.writeString(env, "verbosity 4\n");
        CriuCommandLine.Run r = (CriuCommandLine.Run) CriuCommandLine.interpret(List.of("dump", "-t", "1"), e);
        assertEquals(2, dump(r).log.verbosity, "verbosity=1 from the global file, then one more");
        assertTrue(String.join("\n", r.notes()).contains("'4' is not attached to an option"), r.notes().toString());

        Files.writeString(env, "images-dir /a /b\n");
        f = (CriuCommandLine.Fail) CriuCommandLine.interpret(List.of("dump", "-t", "1"), e);
        assertTrue(f.message().contains("line 1"), f.message());

        Files.writeString(env, "");
        f = (CriuCommandLine.Fail) CriuCommandLine.interpret(List.of("dump", "-t", "1", "--config", "/no/such.conf"), e);
        assertTrue(f.message().contains("/no/such.conf"), f.message());
    }

    @Test
    void configFileFormat() throws Exception {
        assertEquals(List.of("--tcp-close", "--log-file", "a b\"c", "--root", "/x", "--shell-job"),
                ConfigFile.parse("t", List.of("tcp-close", "log-file \"a b\\\"c\" # comment", "", "# only a comment",
                        "\troot /x#trailing", "shell-job")));
    }

    /**
     * --help shows picocli's declarations: every option the table passes to a command must be
     * declared there, and every declared option must be one the table passes (keeps --help, the
     * table and the code in agreement).
     */
    @Test
    void helpAgreesWithTheOptionTable() {
        CommandLine top = Main.picocli(new Main());
        int checked = 0;
        for (CriuOptions.Verb v : CriuOptions.Verb.values()) {
            CommandLine sub = top.getSubcommands().get(v.word);
            if (sub == null) continue;
            Set<String> declared = new HashSet<>();
            for (OptionSpec o : sub.getCommandSpec().options()) declared.add(o.longestName());
            declared.removeAll(Set.of("--help", "--version"));
            Set<String> passed = new HashSet<>();
            for (CriuOptions.Opt o : CriuOptions.all()) {
                if (o.verbs().get(v) instanceof CriuOptions.Passed && !Set.of("config", "no-default-config", "help",
                        "version", "close").contains(o.name())) {
                    passed.add(o.name().equals("daemon") ? "--restore-detached" : o.spelling());
                }
            }
            Set<String> declaredLong = new HashSet<>();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                for (String n : o.names()) if (n.startsWith("--")) declaredLong.add(n);
            }
            for (String p : passed) assertTrue(declaredLong.contains(p), v.word + " does not declare " + p);
            Set<String> mayPass = new HashSet<>(passed); // judged by value: some values are passed
            for (CriuOptions.Opt o : CriuOptions.all()) {
                if (o.verbs().get(v) instanceof CriuOptions.ByValue) mayPass.add(o.spelling());
            }
            List<String> extra = new ArrayList<>();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.usageHelp() || o.versionHelp()) continue;
                boolean any = false;
                for (String n : o.names()) any |= mayPass.contains(n);
                if (!any) extra.add(o.longestName());
            }
            assertEquals(List.of(), extra, v.word + " declares options the table does not pass");
            String footer = sub.getUsageMessage();
            assertTrue(footer.contains("CRIU's other options on " + v.word), footer);
            checked++;
        }
        assertTrue(checked >= 4, "dump, pre-dump, restore and check are checked");
    }
}
