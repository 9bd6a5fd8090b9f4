package pekkopubsub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.Consumer;
import pekkopubsub.protocol.JsonCodec;

/**
 * The load generator: {@code scripts/bench SCENARIO [flags]} (see {@link BenchConfig#USAGE}).
 * Writes {@code result.json} (or {@code sweep.json}) and {@code chart.png} to the output
 * directory and prints a summary; exit code 0 when the run completed (whatever it measured) or
 * --help printed the usage, 2 on bad arguments, 1 when the run could not be made.
 */
public final class Bench {

  /** What a run left behind. */
  public record Outcome(ObjectNode result, Path json, Path png) {}

  /** The run a command line asks for; without one ({@code config} null), the exit code once its usage or refusal is printed. */
  record Arguments(BenchConfig config, int exitCode) {}

  private Bench() {}

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    Arguments arguments = arguments(args, System.out, System.err);
    if (arguments.config() == null) {
      System.exit(arguments.exitCode());
      return;
    }
    BenchConfig c = arguments.config();
    try {
      Outcome o = run(c, line -> System.err.println(line));
      System.out.println(summary(o.result()));
      System.out.println("wrote " + o.json() + (o.png() != null ? " and " + o.png() : ""));
      System.exit(0);
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  /** Parses the command line: --help prints the usage on {@code out} (exit 0), a bad argument one line on {@code err} (exit 2). */
  static Arguments arguments(String[] args, PrintStream out, PrintStream err) {
    if (BenchConfig.asksForHelp(args)) {
      out.print(BenchConfig.USAGE);
      return new Arguments(null, 0);
    }
    try {
      return new Arguments(BenchConfig.parse(args), 0);
    } catch (IllegalArgumentException e) {
      err.println("bench: " + e.getMessage() + " (see scripts/bench --help)");
      return new Arguments(null, 2);
    }
  }

  /** Runs {@code c} (one run, or a sweep), writes the JSON and PNG, returns them. */
  public static Outcome run(BenchConfig c, Consumer<String> log) throws Exception {
    // scripts/bench names the repository's target/bench: it runs in the caller's directory, for the paths given there.
    Path out = c.outDir != null ? c.outDir : Path.of(System.getProperty("bench.results", "target/bench"),
        c.scenario + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(out);
    c.profileFile = out.resolve("server.jfr");
    Consumer<String> progress = c.quiet ? line -> {} : log;
    try (ServerHandle server = ServerHandle.start(c, out)) {
      log.accept("server: " + server.mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + " " + server.httpBase
          + (server.pid > 0 ? " pid " + server.pid : ""));
      ObjectNode result;
      Path json, png = null;
      if (c.sweep) {
        result = sweep(c, server, log, progress);
        json = out.resolve("sweep.json");
        if (c.chart) Chart.writeSweep(png = out.resolve("chart.png"), "sweep " + c.describe(), result.path("steps"));
      } else {
        log.accept(c.describe());
        result = single(c, server, progress);
        json = out.resolve("result.json");
        if (c.chart) Chart.writeRun(png = out.resolve("chart.png"), c.describe(), result.path("series"));
      }
      JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), result);
      return new Outcome(result, json, png);
    }
  }

  private static ObjectNode single(BenchConfig c, ServerHandle server, Consumer<String> progress) throws Exception {
    ObjectNode result = header(c, server);
    result.setAll(new LoadRun(c, server, progress).run());
    return result;
  }

  private static ObjectNode header(BenchConfig c, ServerHandle server) {
    ObjectNode r = JsonCodec.mapper().createObjectNode();
    r.put("scenario", c.scenario);
    r.put("started_at", java.time.Instant.now().toString());
    ObjectNode cfg = r.putObject("config");
    cfg.put("topics", c.topics);
    cfg.put("publishers", c.publishers);
    cfg.put("subscribers", c.subscribers);
    cfg.put("mode", c.closedLoop ? "closed-loop" : "open-loop");
    if (c.closedLoop) cfg.put("window", c.window);
    else cfg.put("rate", c.rate);
    cfg.put("duration_sec", c.durationSec);
    cfg.put("warmup_sec", c.warmupSec);
    cfg.put("payload_bytes", c.payloadBytes);
    if (c.scenario.equals("replay")) cfg.put("last_n", c.lastN);
    cfg.put("io_threads", c.ioThreads);
    cfg.put("tls", c.tls);
    if (c.tls) cfg.put("tls_resume", c.tlsResume);
    if (c.reconnect) cfg.put("reconnect", true);
    cfg.put("compress", c.compress);
    ObjectNode srv = r.putObject("server");
    srv.put("mode", server.mode.name().toLowerCase(Locale.ROOT));
    srv.put("url", server.httpBase.toString());
    if (server.pid > 0) srv.put("pid", server.pid);
    if (!c.serverOptions.isEmpty()) srv.set("options", JsonCodec.mapper().valueToTree(c.serverOptions));
    if (!c.serverJvmOpts.isBlank()) srv.put("jvm_opts", c.serverJvmOpts);
    ObjectNode machine = r.putObject("machine");
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", System.getProperty("java.version"));
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    return r;
  }

  /**
   * Doubles the rate from the scenario's (or --rate) while steps pass, then bisects twice between
   * the last pass and the first failure. A step passes with 100% delivery (nothing dropped, no
   * error) and p99 under --knee-p99-ms, at >= 95% of the target rate.
   */
  private static ObjectNode sweep(BenchConfig c, ServerHandle server, Consumer<String> log, Consumer<String> progress)
      throws Exception {
    ObjectNode result = header(c, server);
    result.put("knee_rule", "highest rate with 100% delivery, no drops or errors, p99 < " + c.kneeP99Ms
        + " ms, and >= 95% of the target rate published");
    ArrayNode steps = result.putArray("steps");
    double rate = c.rate;
    double pass = 0, fail = 0;
    int halvings = 0;
    while (rate <= c.sweepMaxRate) {
      boolean ok = step(c, server, rate, steps, log, progress);
      if (ok) {
        pass = rate;
        if (fail > 0) break;
        rate *= 2;
      } else {
        fail = rate;
        if (pass > 0 || ++halvings > 6) break;
        rate /= 2;
      }
    }
    for (int i = 0; i < 2 && pass > 0 && fail > 0; i++) {
      double mid = Math.round((pass + fail) / 2);
      if (mid <= pass || mid >= fail) break;
      if (step(c, server, mid, steps, log, progress)) pass = mid;
      else fail = mid;
    }
    result.put("knee_rate", pass);
    double kneeDeliveries = 0;
    for (JsonNode s : steps) if (s.path("rate").asDouble() == pass) kneeDeliveries = s.path("deliveries_per_sec").asDouble();
    result.put("knee_deliveries_per_sec", kneeDeliveries);
    if (fail > 0) result.put("first_failing_rate", fail);
    log.accept(String.format(Locale.ROOT, "knee: %.0f msg/s (%.0f deliveries/s)%s", pass, kneeDeliveries,
        fail > 0 ? String.format(Locale.ROOT, "; %.0f msg/s failed", fail) : "; no step failed up to --max-rate"));
    return result;
  }

  private static boolean step(BenchConfig base, ServerHandle server, double rate, ArrayNode steps, Consumer<String> log,
      Consumer<String> progress) throws Exception {
    BenchConfig c = base.clone();
    c.rate = rate;
    c.durationSec = base.sweepStepSec;
    c.warmupSec = Math.min(base.warmupSec, 1);
    c.drainSec = Math.min(base.drainSec, 5);
    log.accept(String.format(Locale.ROOT, "--- step: %.0f msg/s (%s)", rate, c.describe()));
    ObjectNode r = new LoadRun(c, server, progress).run();
    double p99 = r.path("latency_ms").path("p99").asDouble(Double.MAX_VALUE);
    long dropped = r.path("dropped").path("client_gaps").asLong() + r.path("dropped").path("client_missing_at_end").asLong()
        + r.path("dropped").path("server_stats").asLong();
    long errors = 0;
    for (JsonNode e : r.path("errors")) errors += e.asLong();
    double published = r.path("measured").path("publish_rate").asDouble();
    boolean ok = r.path("delivery_ratio").asDouble() >= 1.0 && dropped == 0 && errors == 0 && p99 < base.kneeP99Ms
        && published >= 0.95 * rate && r.path("unexpected_closes").asLong() == 0;
    ObjectNode s = steps.addObject();
    s.put("rate", rate);
    s.put("pass", ok);
    s.put("publish_rate", published);
    s.put("deliveries_per_sec", r.path("measured").path("deliveries_per_sec").asDouble());
    s.put("delivery_ratio", r.path("delivery_ratio").asDouble());
    s.put("dropped", dropped);
    s.put("errors", errors);
    s.put("p50_ms", r.path("latency_ms").path("p50").asDouble());
    s.put("p99_ms", p99 == Double.MAX_VALUE ? -1 : p99);
    s.put("p999_ms", r.path("latency_ms").path("p999").asDouble());
    s.put("max_ms", r.path("latency_ms").path("max").asDouble());
    if (r.path("server_metrics").has("cpu_us_per_delivery")) {
      s.put("server_cpu_us_per_delivery", r.path("server_metrics").path("cpu_us_per_delivery").asDouble());
    }
    if (r.path("server_metrics").has("cpu_pct_avg")) s.put("server_cpu_pct_avg", r.path("server_metrics").path("cpu_pct_avg").asDouble());
    s.set("result", r);
    log.accept(String.format(Locale.ROOT, "    %s: published %.0f/s, delivered %.0f/s, ratio %.4f, dropped %d, errors %d, p99 %.2f ms",
        ok ? "PASS" : "FAIL", published, s.path("deliveries_per_sec").asDouble(), s.path("delivery_ratio").asDouble(),
        dropped, errors, s.path("p99_ms").asDouble()));
    return ok;
  }

  /** A few lines for the terminal. */
  static String summary(ObjectNode r) {
    StringBuilder b = new StringBuilder();
    if (r.has("steps")) {
      b.append(String.format(Locale.ROOT, "%-10s %6s %12s %14s %8s %8s %8s %8s%n", "rate", "pass", "published/s", "delivered/s",
          "ratio", "p50 ms", "p99 ms", "max ms"));
      for (JsonNode s : r.path("steps")) {
        b.append(String.format(Locale.ROOT, "%-10.0f %6s %12.0f %14.0f %8.4f %8.2f %8.2f %8.2f%n", s.path("rate").asDouble(),
            s.path("pass").asBoolean() ? "yes" : "no", s.path("publish_rate").asDouble(), s.path("deliveries_per_sec").asDouble(),
            s.path("delivery_ratio").asDouble(), s.path("p50_ms").asDouble(), s.path("p99_ms").asDouble(), s.path("max_ms").asDouble()));
      }
      b.append(String.format(Locale.ROOT, "knee: %.0f msg/s = %.0f deliveries/s", r.path("knee_rate").asDouble(),
          r.path("knee_deliveries_per_sec").asDouble()));
      return b.toString();
    }
    ObjectNode stripped = r.deepCopy();
    stripped.remove("series");
    try {
      return JsonCodec.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(stripped);
    } catch (IOException e) {
      return stripped.toString();
    }
  }
}
