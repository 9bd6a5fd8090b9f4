package pekkopubsub.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Finds a webjar's resource directory on the classpath, so that the pom stays the only place its version is set. */
final class Webjars {
  private Webjars() {}

  /** {@code META-INF/resources/webjars/ARTIFACT/VERSION}, the version read from the webjar's own pom.properties. */
  static String root(String groupId, String artifactId) {
    String properties = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
    try (InputStream in = Webjars.class.getClassLoader().getResourceAsStream(properties)) {
      if (in == null) throw new IllegalStateException("webjar not on the classpath: " + properties);
      Properties loaded = new Properties();
      loaded.load(in);
      return "META-INF/resources/webjars/" + artifactId + "/" + loaded.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
