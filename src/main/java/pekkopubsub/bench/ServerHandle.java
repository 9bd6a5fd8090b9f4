package pekkopubsub.bench;

import static pekkopubsub.LocalServer.freePort;
import static pekkopubsub.LocalServer.sleep;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import pekkopubsub.Guardian;
import pekkopubsub.LocalServer;
import pekkopubsub.SelfSignedCertificate;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.http.FrontDoor;
import pekkopubsub.http.TlsContext;

/**
 * The server under load: started by the tool (a child process of the jar, or inside this JVM),
 * or an external one given by {@code --url} (and {@code --pid} for its process). Samples its CPU
 * and memory.
 *
 * <p>A child process is the default from {@code scripts/bench}: the server's CPU, RSS, heap and
 * GC are then its own, not mixed with the load generator's, and /proc/PID gives them exactly as
 * for any server. In-process (the smoke test, or {@code --in-process}) needs no jar; its CPU is
 * the sum over the actor system's threads (named {@code pekko-pubsub-*}, which also run the HTTP
 * server's I/O), and its heap is shared with the load generator.
 */
final class ServerHandle implements AutoCloseable {

  /** One sample: cumulative server CPU (ns), resident memory and heap in use (bytes, -1 unknown). */
  /** {@code writeSyscalls}/{@code readSyscalls}: the process's counts so far (/proc/PID/io), -1 when unknown. */
  record Sample(long cpuNanos, long rssBytes, long heapUsedBytes, long writeSyscalls, long readSyscalls) {}

  private static final long CLOCK_TICK_NANOS = 10_000_000L; // USER_HZ = 100 on Linux

  // G1 prints one heap line, Parallel and Serial one per generation ("total ..K, used ..K");
  // Shenandoah "..M committed, ..K used" and ZGC "ZHeap used ..M, capacity ..M", in K, M or G.
  private static final Pattern GENERATION_USED = Pattern.compile("total \\d+K, used (\\d+)K");
  private static final Pattern SHENANDOAH_USED = Pattern.compile("committed, (\\d+)([KMG]) used");
  private static final Pattern ZGC_USED = Pattern.compile("ZHeap\\s+used (\\d+)([KMG])");

  final BenchConfig.ServerMode mode;
  final URI httpBase;
  final long pid;
  private final ActorSystem<Guardian.Command> system;
  private final Process process;
  final Path log;
  /** What the clients trust for TLS; null: the JVM's default (or no TLS). */
  final SSLContext clientTls;
  /** For REST: trusts {@link #clientTls}. */
  final HttpClient http;

  private ServerHandle(BenchConfig.ServerMode mode, URI httpBase, long pid, ActorSystem<Guardian.Command> system,
      Process process, Path log, SSLContext clientTls) {
    this.mode = mode;
    this.httpBase = httpBase;
    this.pid = pid;
    this.system = system;
    this.process = process;
    this.log = log;
    this.clientTls = clientTls;
    HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    this.http = (clientTls == null ? http : http.sslContext(clientTls)).build();
  }

  static ServerHandle start(BenchConfig c, Path workDir) {
    if (c.serverMode == BenchConfig.ServerMode.EXTERNAL) {
      SSLContext trust = c.cacert == null && c.cert == null ? null
          : TrustedCertificates.context(c.cacert, c.cert == null ? null : TlsContext.keyManagers(c.cert, c.key));
      return new ServerHandle(c.serverMode, URI.create(c.url), c.pid, null, null, null, trust);
    }
    SSLContext trust = null;
    if (c.tls) {
      SelfSignedCertificate certificate = SelfSignedCertificate.create(workDir.resolve("tls").toAbsolutePath(), "EC", 2);
      c.serverOptions.put("http.tls.certificate", certificate.certificate().toString());
      c.serverOptions.put("http.tls.private-key", certificate.privateKey().toString());
      trust = TrustedCertificates.trusting(certificate.certificate());
    }
    return c.serverMode == BenchConfig.ServerMode.IN_PROCESS ? startInProcess(c, trust) : startChild(c, workDir, trust);
  }

  private static URI base(BenchConfig c, int port) {
    return URI.create((c.tls ? "https" : "http") + "://127.0.0.1:" + port);
  }

  private static ServerHandle startInProcess(BenchConfig c, SSLContext trust) {
    int port = freePort();
    ActorSystem<Guardian.Command> system = LocalServer.start(port, c.serverOptions);
    ServerHandle h = new ServerHandle(BenchConfig.ServerMode.IN_PROCESS, base(c, port),
        ProcessHandle.current().pid(), system, null, null, trust);
    h.awaitHealthy(c);
    return h;
  }

  private static ServerHandle startChild(BenchConfig c, Path workDir, SSLContext trust) {
    Path jar = BenchConfig.jarPath();
    if (jar == null) throw new IllegalStateException("no jar to start a child server from; use --in-process or --url");
    int port = freePort();
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    // The same JVM flags as scripts/run: the jar sits in target/ beside scripts/.
    Path jvmOptions = jar.toAbsolutePath().getParent().resolveSibling("scripts").resolve("jvm.options");
    if (Files.isRegularFile(jvmOptions)) cmd.add("@" + jvmOptions);
    for (String opt : c.serverJvmOpts.trim().split("\\s+")) if (!opt.isEmpty()) cmd.add(opt);
    c.serverOptions.forEach((k, v) -> cmd.add("-Dpubsub." + k + "=" + v));
    cmd.add("-cp");
    cmd.add(jar.toString());
    cmd.add("pekkopubsub.Main");
    Path log = workDir.resolve("server.log");
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("HOST", "127.0.0.1");
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().remove("CONFIG_FILE");
    pb.directory(workDir.toFile()); // no ./application.conf from the caller's directory
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ServerHandle h = new ServerHandle(BenchConfig.ServerMode.CHILD, base(c, port), p.pid(), null, p, log, trust);
    try {
      h.awaitHealthy(c);
    } catch (RuntimeException e) {
      h.close();
      throw new IllegalStateException(e.getMessage() + " (server log: " + log + ")", e);
    }
    return h;
  }

  private void awaitHealthy(BenchConfig c) {
    AdminClient admin = new AdminClient(httpBase, java.util.Map.of(), http);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (process != null && !process.isAlive()) throw new IllegalStateException("server exited with " + process.exitValue());
      try {
        if (admin.health().status() == 200) return;
      } catch (RuntimeException notYet) {
        // not bound yet
      }
      if (System.nanoTime() > deadline) throw new IllegalStateException("server did not become healthy in 30 s");
      sleep(50);
    }
  }

  boolean canSample() {
    return pid > 0 && (mode == BenchConfig.ServerMode.IN_PROCESS || new File("/proc/" + pid + "/stat").exists());
  }

  Sample sample() {
    if (mode == BenchConfig.ServerMode.IN_PROCESS) {
      return new Sample(inProcessServerCpu(), rss(pid), heapUsedHere(), syscalls(pid, "syscw"), syscalls(pid, "syscr"));
    }
    if (pid <= 0) return new Sample(-1, -1, -1, -1, -1);
    return new Sample(procCpu(pid), rss(pid), -1, syscalls(pid, "syscw"), syscalls(pid, "syscr"));
  }

  private static final String PROFILE_NAME = "pubsub-bench";
  private jdk.jfr.Recording inProcessRecording;
  private Path profileFile;

  /** Starts a JDK Flight Recorder recording (settings "profile") of the server, to {@code file}. */
  void startProfile(Path file) {
    profileFile = file.toAbsolutePath();
    if (mode == BenchConfig.ServerMode.IN_PROCESS) {
      try {
        inProcessRecording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
      } catch (IOException | java.text.ParseException e) {
        throw new IllegalStateException("JFR's profile settings are missing", e);
      }
      inProcessRecording.start();
      return;
    }
    if (pid <= 0) throw new IllegalStateException("--profile needs the server's process: pass --pid with --url");
    String out = jcmd("JFR.start", "name=" + PROFILE_NAME, "settings=profile", "filename=" + profileFile);
    if (out == null || !out.contains("Started recording")) throw new IllegalStateException("jcmd JFR.start failed: " + out);
  }

  /** Stops the recording and returns its file. */
  Path stopProfile() {
    if (inProcessRecording != null) {
      try {
        inProcessRecording.stop();
        inProcessRecording.dump(profileFile);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        inProcessRecording.close();
        inProcessRecording = null;
      }
    } else {
      jcmd("JFR.stop", "name=" + PROFILE_NAME);
    }
    return profileFile;
  }

  /** Heap in use after a full GC: jcmd for another process, System.gc() here. -1 when unknown. */
  long heapAfterGc() {
    if (mode == BenchConfig.ServerMode.IN_PROCESS) {
      System.gc();
      sleep(200);
      System.gc();
      return heapUsedHere();
    }
    if (pid <= 0) return -1;
    jcmd("GC.run");
    return heapUsedBytes(jcmd("GC.heap_info"));
  }

  /** The used heap in {@code jcmd GC.heap_info}'s output, or -1. */
  static long heapUsedBytes(String heapInfo) {
    String info = heapInfo == null ? "" : heapInfo;
    Matcher generations = GENERATION_USED.matcher(info);
    long usedKb = -1;
    while (generations.find()) usedKb = Math.max(usedKb, 0) + Long.parseLong(generations.group(1));
    if (usedKb >= 0) return usedKb * 1024;
    for (Pattern wholeHeap : List.of(SHENANDOAH_USED, ZGC_USED)) {
      Matcher m = wholeHeap.matcher(info);
      if (m.find()) return Long.parseLong(m.group(1)) << (10 * ("KMG".indexOf(m.group(2)) + 1));
    }
    return -1;
  }

  private String jcmd(String... command) {
    String jcmd = ProcessHandle.current().info().command()
        .map(java -> Path.of(java).resolveSibling("jcmd").toString()).orElse("jcmd");
    List<String> cmd = new ArrayList<>(List.of(jcmd, Long.toString(pid)));
    cmd.addAll(List.of(command));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static long heapUsedHere() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static long inProcessServerCpu() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long total = 0;
    for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
      // the selector thread runs work itself on a quiet server (LoopInliningExecutorConfigurator)
      if (info == null || !isServerThread(info.getThreadName())) continue;
      long t = threads.getThreadCpuTime(info.getThreadId());
      if (t > 0) total += t;
    }
    return total;
  }

  static boolean isServerThread(String name) {
    return name.startsWith("pekko-pubsub") || name.equals(FrontDoor.LOOP_THREAD_NAME);
  }

  /** utime + stime of /proc/PID/stat, in ns. */
  static long procCpu(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // after "pid (comm) ": f[0] is state (field 3); utime is field 14, stime field 15
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * CLOCK_TICK_NANOS;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** A counter of /proc/PID/io ({@code syscw}: write-like system calls, {@code syscr}: read-like); -1 when unreadable. */
  static long syscalls(long pid, String counter) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
        if (line.startsWith(counter + ":")) return Long.parseLong(line.substring(counter.length() + 1).trim());
      }
    } catch (IOException | RuntimeException e) {
      // not on Linux, or not ours to read
    }
    return -1;
  }

  /** VmRSS of /proc/PID/status, in bytes. */
  static long rss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    } catch (IOException | RuntimeException e) {
      // not on Linux, or gone
    }
    return -1;
  }

  @Override
  public void close() {
    if (system != null) {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // best effort
      }
    }
    if (process != null && process.isAlive()) {
      process.destroy(); // SIGTERM: the server drains and exits 0
      try {
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
