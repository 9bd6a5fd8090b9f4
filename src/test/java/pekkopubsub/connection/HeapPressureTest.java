package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HeapPressureTest {

  @Test
  void thePressureComesOnAtTheWatermarkAndGoesOffUnder90PercentOfIt() {
    HeapPressure pressure = new HeapPressure(1000);
    assertEquals(-1, pressure.usedAfterLastCollection());
    pressure.afterCollection(999);
    assertFalse(pressure.isHigh());
    pressure.afterCollection(1000);
    assertTrue(pressure.isHigh());
    pressure.afterCollection(950);
    assertTrue(pressure.isHigh(), "still on between 90 % and the watermark");
    pressure.afterCollection(900);
    assertTrue(pressure.isHigh(), "90 % exactly is not under it");
    pressure.afterCollection(899);
    assertFalse(pressure.isHigh());
    pressure.afterCollection(950);
    assertFalse(pressure.isHigh(), "and stays off until the watermark again");
    assertEquals(950, pressure.usedAfterLastCollection());
  }

  @Test
  void offIsNeverUnderPressure() {
    assertSame(HeapPressure.OFF, HeapPressure.watchingCollections(0));
    HeapPressure.OFF.close();
    assertFalse(HeapPressure.OFF.isHigh());
    assertThrows(IllegalArgumentException.class, () -> new HeapPressure(-1));
  }

  /** The JVM's own collections drive it: a watermark of one byte is reached by any heap. */
  @Test
  void aRealCollectionIsSeenAndAClosedWatcherSeesNoMore() throws InterruptedException {
    HeapPressure closed = HeapPressure.watchingCollections(1);
    closed.close();
    try (HeapPressure watching = HeapPressure.watchingCollections(1)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!watching.isHigh() && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(50);
      }
      assertTrue(watching.isHigh(), "a collection left more than one byte in use");
      assertTrue(watching.usedAfterLastCollection() > 0);
      assertFalse(closed.isHigh(), "the closed one got the same notifications and must not have heard them");
      assertEquals(-1, closed.usedAfterLastCollection());
    }
  }
}
