package pekkopubsub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG of a run with Java2D (no charting dependency): throughput per second on top
 * (published and delivered), latency per second below (p50, p99, max; log scale).
 * For a sweep, the x axis is the step's target rate instead of time.
 */
final class Chart {
  private static final int W = 1100, H = 720, LEFT = 90, RIGHT = 30, TOP = 50, GAP = 60;
  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

  record Series(String name, double[] values) {}

  private Chart() {}

  /** A run's chart from its {@code series} array. */
  static void writeRun(Path file, String title, JsonNode series) throws IOException {
    double[] t = column(series, "t");
    double[] pub = column(series, "published_per_s");
    double[] del = column(series, "delivered_per_s");
    double[] p50 = column(series, "p50_ms");
    double[] p99 = column(series, "p99_ms");
    double[] max = column(series, "max_ms");
    write(file, title, "seconds", t, false,
        List.of(new Series("delivered/s", del), new Series("published/s", pub)),
        List.of(new Series("p50 ms", p50), new Series("p99 ms", p99), new Series("max ms", max)));
  }

  /** A sweep's chart: per step, deliveries/s and latency against the target rate (log x). */
  static void writeSweep(Path file, String title, JsonNode steps) throws IOException {
    int n = steps.size();
    double[] rate = column(steps, "rate");
    double[] del = column(steps, "deliveries_per_sec");
    double[] pub = column(steps, "publish_rate");
    double[] p50 = column(steps, "p50_ms");
    double[] p99 = column(steps, "p99_ms");
    double[] max = column(steps, "max_ms");
    // steps are run out of order (bisection): sort by rate
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    java.util.Arrays.sort(idx, (a, b) -> Double.compare(rate[a], rate[b]));
    write(file, title, "target publish rate (msg/s)", pick(rate, idx), true,
        List.of(new Series("delivered/s", pick(del, idx)), new Series("published/s", pick(pub, idx))),
        List.of(new Series("p50 ms", pick(p50, idx)), new Series("p99 ms", pick(p99, idx)), new Series("max ms", pick(max, idx))));
  }

  private static double[] column(JsonNode rows, String field) {
    double[] values = new double[rows.size()];
    for (int i = 0; i < values.length; i++) values[i] = rows.get(i).path(field).asDouble();
    return values;
  }

  private static double[] pick(double[] v, Integer[] idx) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) r[i] = v[idx[i]];
    return r;
  }

  private static void write(Path file, String title, String xLabel, double[] x, boolean logX,
      List<Series> top, List<Series> bottom) throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, LEFT, 28);
    int panelH = (H - TOP - GAP - 50) / 2;
    panel(g, TOP, panelH, x, logX, top, false, "per second", null);
    panel(g, TOP + panelH + GAP, panelH, x, logX, bottom, true, "latency (ms, log)", xLabel);
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static void panel(Graphics2D g, int y0, int h, double[] x, boolean logX, List<Series> series, boolean logY,
      String yLabel, String xLabel) {
    int x0 = LEFT, w = W - LEFT - RIGHT;
    g.setColor(new Color(0xf7f7f7));
    g.fillRect(x0, y0, w, h);
    g.setColor(Color.GRAY);
    g.drawRect(x0, y0, w, h);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    if (x.length == 0) {
      g.drawString("no data", x0 + w / 2 - 20, y0 + h / 2);
      return;
    }
    double xmin = Double.MAX_VALUE, xmax = -Double.MAX_VALUE, ymax = 0, ymin = Double.MAX_VALUE;
    for (double v : x) {
      xmin = Math.min(xmin, fx(v, logX));
      xmax = Math.max(xmax, fx(v, logX));
    }
    for (Series s : series) for (double v : s.values) {
      ymax = Math.max(ymax, v);
      if (v > 0) ymin = Math.min(ymin, v);
    }
    if (xmax <= xmin) xmax = xmin + 1;
    double lo, hi;
    if (logY) {
      lo = Math.floor(Math.log10(ymin == Double.MAX_VALUE ? 0.01 : Math.max(0.001, ymin)));
      hi = Math.ceil(Math.log10(Math.max(ymax, Math.pow(10, lo + 1))));
      if (hi <= lo) hi = lo + 1;
    } else {
      lo = 0;
      hi = ymax <= 0 ? 1 : niceCeil(ymax);
    }
    // y grid
    int ticks = logY ? (int) (hi - lo) : 5;
    for (int i = 0; i <= ticks; i++) {
      int yy = y0 + h - (int) Math.round((double) i / ticks * h);
      g.setColor(new Color(0xdddddd));
      g.drawLine(x0, yy, x0 + w, yy);
      g.setColor(Color.DARK_GRAY);
      double v = logY ? Math.pow(10, lo + i) : lo + (hi - lo) * i / ticks;
      String label = logY ? trim(v) : compact(v);
      g.drawString(label, x0 - 8 - g.getFontMetrics().stringWidth(label), yy + 4);
    }
    // x ticks
    int xt = Math.min(10, Math.max(1, x.length - 1));
    for (int i = 0; i <= xt; i++) {
      double fv = xmin + (xmax - xmin) * i / xt;
      int xx = x0 + (int) Math.round((double) i / xt * w);
      g.setColor(Color.DARK_GRAY);
      double v = logX ? Math.pow(10, fv) : fv;
      String label = compact(v);
      g.drawString(label, xx - g.getFontMetrics().stringWidth(label) / 2, y0 + h + 14);
    }
    g.drawString(yLabel, x0, y0 - 6);
    if (xLabel != null) g.drawString(xLabel, x0 + w / 2 - 40, y0 + h + 30);
    // lines
    g.setStroke(new BasicStroke(2f));
    int legendX = x0 + w - 10;
    for (int si = series.size() - 1; si >= 0; si--) {
      Series s = series.get(si);
      Color color = COLORS[si % COLORS.length];
      g.setColor(color);
      int px = -1, py = -1;
      for (int i = 0; i < x.length; i++) {
        double v = s.values[i];
        if (logY && v <= 0) {
          px = -1;
          continue;
        }
        double fy = logY ? (Math.log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
        int xx = x0 + (int) Math.round((fx(x[i], logX) - xmin) / (xmax - xmin) * w);
        int yy = y0 + h - (int) Math.round(Math.max(0, Math.min(1, fy)) * h);
        if (px >= 0) g.drawLine(px, py, xx, yy);
        g.fillOval(xx - 2, yy - 2, 4, 4);
        px = xx;
        py = yy;
      }
      int tw = g.getFontMetrics().stringWidth(s.name);
      legendX -= tw + 26;
      g.fillRect(legendX, y0 - 14, 14, 4);
      g.drawString(s.name, legendX + 18, y0 - 8);
    }
    g.setStroke(new BasicStroke(1f));
  }

  private static double fx(double v, boolean log) {
    return log ? Math.log10(Math.max(v, 1e-9)) : v;
  }

  private static double niceCeil(double v) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) if (m * p >= v) return m * p;
    return 10 * p;
  }

  private static String trim(double v) {
    return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
  }

  static String compact(double v) {
    double a = Math.abs(v);
    if (a >= 1e6) return String.format(Locale.ROOT, "%.1fM", v / 1e6);
    if (a >= 1e3) return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    if (a >= 10 || v == 0) return String.format(Locale.ROOT, "%.0f", v);
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
