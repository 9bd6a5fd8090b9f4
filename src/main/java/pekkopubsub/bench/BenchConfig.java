package pekkopubsub.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The parameters of a bench run: a scenario's defaults, then every flag given on the command line. */
public final class BenchConfig implements Cloneable {

  /** How the tool gets a server. */
  public enum ServerMode { CHILD, IN_PROCESS, EXTERNAL }

  public static final List<String> SCENARIOS =
      List.of("light", "medium", "heavy", "extreme", "fanout", "many-topics", "replay", "connections");

  public String scenario;
  public int topics;
  public int publishers;
  public int subscribers;
  /** Total publish rate, messages per second over all publishers (open loop). */
  public double rate;
  public boolean closedLoop;
  /** Unacknowledged publishes each publisher keeps in flight under --closed-loop. */
  public int window = 1;
  public double durationSec = 10;
  public double warmupSec = 2;
  public int payloadBytes = 100;
  /** replay: last_n asked by the joining subscribers. */
  public int lastN = 50;
  public int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
  public String url;
  public long pid = -1;
  public ServerMode serverMode;
  /** pubsub.* overrides for a server the tool starts itself (key relative to pubsub, e.g. topic.max-history=100). */
  public Map<String, String> serverOptions = new LinkedHashMap<>();
  public String serverJvmOpts = "";
  public Path outDir;
  public boolean sweep;
  public double sweepStepSec = 5;
  public double sweepMaxRate = 10_000_000;
  public double kneeP99Ms = 10;
  public boolean quiet;
  public boolean chart = true;
  public String apiKey;
  /** Keep the server's per-connection publish rate and connection limits (lifted by default on a server the tool starts). */
  public boolean keepLimits;
  /** Record the server with JDK Flight Recorder over the measured seconds (to {@link #profileFile}). */
  public boolean profile;
  Path profileFile;
  /** TLS: a server the tool starts gets a self-signed certificate; with --url, an https:// URL implies it. */
  public boolean tls;
  /** PEM certificate(s) the clients trust for an https:// --url (default: the JVM's trust store). */
  public Path cacert;
  /** The clients' certificate chain and key (PEM), for a --url that asks for client certificates; null: none. */
  public Path cert;
  public Path key;
  /** Every connection offers permessage-deflate (a server the tool starts gets it switched on). */
  public boolean compress;
  /** {@code --no-resume}: every wss connection runs a full TLS handshake. */
  public boolean tlsResume = true;
  /** {@code connections --reconnect}: every subscriber drops its connection at once and comes back. */
  public boolean reconnect;
  /** Seconds to wait after the last publish for the deliveries still on their way. */
  public double drainSec = 30;

  /** A scenario's defaults. */
  public static BenchConfig scenario(String name) {
    BenchConfig c = new BenchConfig();
    c.scenario = name;
    switch (name) {
      case "light" -> set(c, 5, 10, 20, 1_000);
      case "medium" -> set(c, 10, 20, 50, 2_000);
      case "heavy" -> set(c, 20, 50, 100, 5_000);
      case "extreme" -> set(c, 50, 100, 200, 10_000);
      case "fanout" -> set(c, 1, 1, 100, 1_000);
      case "many-topics" -> set(c, 1_000, 10, 1_000, 2_000);
      case "replay" -> {
        set(c, 5, 5, 20, 500);
        c.lastN = 50;
      }
      case "connections" -> {
        set(c, 1, 0, 1_000, 0);
        c.durationSec = 0;
        c.warmupSec = 0;
      }
      default -> throw new IllegalArgumentException("unknown scenario '" + name + "'; one of " + SCENARIOS);
    }
    return c;
  }

  private static void set(BenchConfig c, int topics, int publishers, int subscribers, double rate) {
    c.topics = topics;
    c.publishers = publishers;
    c.subscribers = subscribers;
    c.rate = rate;
  }

  public static final String USAGE = """
      usage: scripts/bench SCENARIO [flags]
        scenarios: light medium heavy extreme fanout many-topics replay connections
      flags (each overrides the scenario's default):
        --topics N            topics (created fresh by the tool, deleted afterwards)
        --publishers N        publishing connections (round-robin over the topics)
        --subscribers N       subscribing connections (one topic each, round-robin)
        --rate R              total publish rate, msg/s, open loop (scheduled by intended send time)
        --closed-loop         publish as fast as acks allow instead (see --window)
        --window N            unacknowledged publishes per publisher under --closed-loop (default 1)
        --duration S          measured seconds (default 10)
        --warmup S            seconds of load before measuring (default 2)
        --payload-bytes N     size of each message's payload JSON (default 100)
        --last-n N            replay: last_n of the joining subscribers (default 50)
        --sweep               raise the rate step by step and report the knee
        --step-duration S     --sweep: seconds per step (default 5)
        --max-rate R          --sweep: stop doubling here
        --knee-p99-ms MS      --sweep: p99 bound of a passing step (default 10)
        --url URL             target a running server (http://host:port); otherwise one is started
        --pid PID             the target server's process, for CPU and memory (/proc/PID)
        --in-process          start the server inside this JVM instead of as a child process
        --server-opt K=V      pubsub.K = V for a server the tool starts (repeatable)
        --server-jvm-opts S   JVM flags of a child server, after scripts/jvm.options
        --keep-limits         keep the started server's publish-rate and max-connections limits
                              (lifted by default: limits.publish-rate=0, limits.max-connections=0)
        --api-key KEY         X-API-Key for REST and the WebSocket upgrade
        --tls                 wss:// and https://: a server the tool starts gets a self-signed
                              certificate (with --url, an https:// URL means TLS)
        --cacert FILE         PEM certificate(s) to trust for an https:// --url (default: the JVM's)
        --cert FILE --key FILE  PEM certificate chain and PKCS #8 key every connection presents to
                              an https:// --url that asks for client certificates (mutual TLS)
        --no-resume           every wss connection runs a full TLS handshake (by default a
                              connection offers the session an earlier one got, as browsers do)
        --reconnect           connections: then every subscriber drops its TCP connection at
                              once, as in a network blip, and connects and subscribes again,
                              offering (over TLS) the session its own first connection got
        --compress            every connection offers permessage-deflate; a server the tool
                              starts gets connection.permessage-deflate=on
        --io-threads N        client receive threads (default min(4, cores))
        --drain S             seconds to wait for deliveries after publishing stops (default 30;
                              it ends sooner once all arrived or none arrived for 2 s)
        --out DIR             where result.json and chart.png go (default target/bench/SCENARIO-TIME
                              of the repository); relative paths are the current directory's
        --profile             record the server with JDK Flight Recorder over the measured seconds:
                              CPU by code area, hottest methods, bytes allocated per delivery, GC
                              pauses in result.json "profile", the recording in server.jfr
        --no-chart            skip the PNG
        --quiet               no progress lines
      """;

  /** True when the arguments ask for {@link #USAGE} ({@code -h} or {@code --help} anywhere) instead of a run. */
  public static boolean asksForHelp(String[] args) {
    return List.of(args).contains("--help") || List.of(args).contains("-h");
  }

  /** Parses {@code SCENARIO [flags]}; a bad argument is an IllegalArgumentException whose message is one line naming it. */
  public static BenchConfig parse(String[] args) {
    if (args.length == 0) throw new IllegalArgumentException("a scenario is required, one of " + SCENARIOS);
    if (args[0].startsWith("-")) throw new IllegalArgumentException("the scenario comes first, before " + args[0] + "; one of " + SCENARIOS);
    BenchConfig c = scenario(args[0]);
    List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
    boolean inProcess = false;
    for (int i = 0; i < rest.size(); i++) {
      String flag = rest.get(i);
      String value = null;
      int eq = flag.indexOf('=');
      if (flag.startsWith("--") && eq > 0 && !flag.startsWith("--server-opt=")) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      } else if (flag.startsWith("--server-opt=")) {
        value = flag.substring("--server-opt=".length());
        flag = "--server-opt";
      }
      switch (flag) {
        case "--closed-loop" -> c.closedLoop = true;
        case "--sweep" -> c.sweep = true;
        case "--in-process" -> inProcess = true;
        case "--quiet" -> c.quiet = true;
        case "--no-chart" -> c.chart = false;
        case "--keep-limits" -> c.keepLimits = true;
        case "--profile" -> c.profile = true;
        case "--tls" -> c.tls = true;
        case "--compress" -> c.compress = true;
        case "--no-resume" -> c.tlsResume = false;
        case "--reconnect" -> c.reconnect = true;
        default -> {
          if (!flag.startsWith("-")) throw new IllegalArgumentException("unexpected argument '" + flag + "'");
          if (value == null) {
            if (i + 1 >= rest.size()) throw new IllegalArgumentException(flag + " needs a value");
            value = rest.get(++i);
          }
          apply(c, flag, value);
        }
      }
    }
    if (c.url != null) {
      c.serverMode = ServerMode.EXTERNAL;
      if (c.tls && !c.url.startsWith("https://")) throw new IllegalArgumentException("--tls with --url wants an https:// URL");
      c.tls = c.url.startsWith("https://");
    }
    else c.serverMode = inProcess || !runningFromJar() ? ServerMode.IN_PROCESS : ServerMode.CHILD;
    if (c.serverMode != ServerMode.EXTERNAL && !c.keepLimits) {
      // the bench measures the server, not its abuse limits: lift them unless asked (0 = unlimited)
      c.serverOptions.putIfAbsent("limits.publish-rate", "0");
      c.serverOptions.putIfAbsent("limits.max-connections", "0");
      if (c.compress) c.serverOptions.putIfAbsent("connection.permessage-deflate", "on");
    }
    c.validate();
    return c;
  }

  private static void apply(BenchConfig c, String flag, String v) {
    switch (flag) {
      case "--topics" -> c.topics = wholeNumber(flag, v);
      case "--publishers" -> c.publishers = wholeNumber(flag, v);
      case "--subscribers" -> c.subscribers = wholeNumber(flag, v);
      case "--rate" -> c.rate = number(flag, v);
      case "--window" -> c.window = wholeNumber(flag, v);
      case "--duration" -> c.durationSec = number(flag, v);
      case "--warmup" -> c.warmupSec = number(flag, v);
      case "--payload-bytes" -> c.payloadBytes = wholeNumber(flag, v);
      case "--last-n" -> c.lastN = wholeNumber(flag, v);
      case "--step-duration" -> c.sweepStepSec = number(flag, v);
      case "--max-rate" -> c.sweepMaxRate = number(flag, v);
      case "--knee-p99-ms" -> c.kneeP99Ms = number(flag, v);
      case "--url" -> c.url = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
      case "--pid" -> c.pid = wholeNumber(flag, v);
      case "--server-opt" -> {
        int eq = v.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("--server-opt wants KEY=VALUE, not " + v);
        c.serverOptions.put(v.substring(0, eq).replaceFirst("^pubsub\\.", ""), v.substring(eq + 1));
      }
      case "--server-jvm-opts" -> c.serverJvmOpts = v;
      case "--api-key" -> c.apiKey = v;
      case "--io-threads" -> c.ioThreads = wholeNumber(flag, v);
      case "--drain" -> c.drainSec = number(flag, v);
      case "--out" -> c.outDir = Path.of(v);
      case "--cacert" -> c.cacert = Path.of(v);
      case "--cert" -> c.cert = Path.of(v);
      case "--key" -> c.key = Path.of(v);
      default -> throw new IllegalArgumentException("unknown flag " + flag);
    }
  }

  private static int wholeNumber(String flag, String v) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " wants a whole number, not '" + v + "'");
    }
  }

  private static double number(String flag, String v) {
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      d = Double.NaN;
    }
    // parseDouble takes "NaN" and "Infinity" too, which no rate, duration or bound means.
    if (!Double.isFinite(d)) throw new IllegalArgumentException(flag + " wants a number, not '" + v + "'");
    return d;
  }

  void validate() {
    require(topics >= 1, "--topics must be >= 1");
    require(publishers >= 0 && subscribers >= 0, "--publishers and --subscribers must be >= 0");
    require(!scenario.equals("connections") || subscribers >= 1, "connections needs --subscribers >= 1");
    require(scenario.equals("connections") || publishers >= 1, "--publishers must be >= 1");
    require(closedLoop || rate > 0 || publishers == 0, "--rate must be > 0 (or --closed-loop)");
    require(window >= 1, "--window must be >= 1");
    require(durationSec >= 0 && warmupSec >= 0, "--duration and --warmup must be >= 0");
    require(payloadBytes >= 0 && payloadBytes <= 60_000, "--payload-bytes must be 0..60000");
    require(lastN >= 0 && lastN <= 1000, "--last-n must be 0..1000");
    require(ioThreads >= 1, "--io-threads must be >= 1");
    require(sweepStepSec > 0 && sweepMaxRate > 0 && kneeP99Ms > 0, "--step-duration, --max-rate and --knee-p99-ms must be > 0");
    require(drainSec >= 0, "--drain must be >= 0");
    require(pid == -1 || pid >= 1, "--pid must be >= 1");
    require(!(sweep && closedLoop), "--sweep raises an open-loop rate; drop --closed-loop");
    require(cacert == null || tls, "--cacert is for an https:// --url");
    require(tlsResume || tls, "--no-resume is for TLS (--tls or an https:// --url)");
    require(!reconnect || scenario.equals("connections"), "--reconnect is for the connections scenario");
    require((cert == null) == (key == null), "--cert and --key go together");
    require(cert == null || (tls && serverMode == ServerMode.EXTERNAL), "--cert and --key are for an https:// --url");
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }

  /** True when this code runs from the packaged jar (scripts/bench), so a child server can be started from it. */
  static boolean runningFromJar() {
    return jarPath() != null;
  }

  static Path jarPath() {
    try {
      var source = BenchConfig.class.getProtectionDomain().getCodeSource();
      if (source == null) return null;
      Path p = Path.of(source.getLocation().toURI());
      return p.toString().endsWith(".jar") ? p : null;
    } catch (Exception e) {
      return null;
    }
  }

  public String describe() {
    return String.format(Locale.ROOT, "%s%s: %d topics, %d publishers, %d subscribers, %s, %d-byte payloads, %.1f s (+%.1f s warmup)",
        scenario, (tls ? " over TLS" : "") + (compress ? ", compressed" : ""), topics, publishers, subscribers,
        closedLoop ? "closed loop (window " + window + ")" : String.format(Locale.ROOT, "%.0f msg/s open loop", rate),
        payloadBytes, durationSec, warmupSec);
  }

  @Override
  public BenchConfig clone() {
    try {
      BenchConfig c = (BenchConfig) super.clone();
      c.serverOptions = new LinkedHashMap<>(serverOptions);
      return c;
    } catch (CloneNotSupportedException e) {
      throw new AssertionError(e);
    }
  }
}
