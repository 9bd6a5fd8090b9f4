package pekkopubsub.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ServerHandleTest {

  @Test
  void heapUsedIsReadFromG1sOneHeapLine() {
    String g1 = """
        12345:
         garbage-first heap   total 231424K, used 37000K [0x0000000684800000, 0x0000000800000000)
          region size 2048K, 3 young (6144K), 1 survivors (2048K)
         Metaspace       used 47880K, committed 48384K, reserved 1089536K
          class space    used 5601K, committed 5888K, reserved 1048576K
        """;
    assertEquals(37000L * 1024, ServerHandle.heapUsedBytes(g1));
  }

  @Test
  void heapUsedSumsTheGenerationsOfParallelAndSerial() {
    String parallel = """
        12345:
         PSYoungGen      total 114688K, used 1966K [0x0000000768a80000, 0x0000000770a80000, 0x0000000800000000)
          eden space 98304K, 2% used [0x0000000768a80000,0x0000000768c6b9a0,0x000000076ea80000)
         ParOldGen       total 262144K, used 44000K [0x0000000639e00000, 0x0000000649e00000, 0x0000000768a80000)
          object space 262144K, 16% used [0x0000000639e00000,0x000000063c8f8000,0x0000000649e00000)
         Metaspace       used 47880K, committed 48384K, reserved 1089536K
        """;
    assertEquals((1966L + 44000L) * 1024, ServerHandle.heapUsedBytes(parallel));
  }

  @Test
  void heapUsedIsReadFromShenandoahsAndZgcsHeapLines() {
    String shenandoah = """
        28804:
        Shenandoah Heap
         6028M max, 6028M soft max, 384M committed, 61370K used
         3014 x 2048K regions
        """;
    assertEquals(61370L * 1024, ServerHandle.heapUsedBytes(shenandoah));
    String zgc = """
        28853:
         ZHeap           used 116M, capacity 378M, max capacity 6028M
         Metaspace       used 32507K, committed 32768K, reserved 1114112K
        """;
    assertEquals(116L * 1024 * 1024, ServerHandle.heapUsedBytes(zgc));
  }

  @Test
  void noHeapLineIsMinusOne() {
    assertEquals(-1, ServerHandle.heapUsedBytes("12345:\nCommand not found\n"));
    assertEquals(-1, ServerHandle.heapUsedBytes(null));
  }
}
