// Golden payloads compressed by the Java client's own codecs (pulsar-common 4.0.8's
// CompressionCodecProvider: aircompressor LZ4/ZSTD/Snappy, java.util.zip for ZLIB).
//
//   java GoldenCompression generate   > golden_compression.json
//   java GoldenCompression decode     < lines of "TYPE SIZE HEX"  → lines of "HEX" or "ERROR msg"
//
// The inputs are built from recipes that lib/pulsar/compression_test.ts repeats; the fixture
// keeps each input's length and CRC32C so that a drift between the two is caught.

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import org.apache.pulsar.common.api.proto.CompressionType;
import org.apache.pulsar.common.compression.CompressionCodec;
import org.apache.pulsar.common.compression.CompressionCodecProvider;

public class GoldenCompression {
  static final String[] TYPES = {"LZ4", "ZLIB", "ZSTD", "SNAPPY"};

  static Map<String, byte[]> inputs() {
    Map<String, byte[]> in = new LinkedHashMap<>();
    in.put("empty", new byte[0]);
    in.put("one", "a".getBytes(StandardCharsets.UTF_8));
    String json =
        "{\"topic\":\"persistent://public/default/payments\",\"key\":\"user-42\",\"value\":{\"amount\":12.5}}";
    in.put("json", json.getBytes(StandardCharsets.UTF_8));
    in.put("json_repeated", (json + "\n").repeat(300).getBytes(StandardCharsets.UTF_8));
    byte[] random = new byte[4096];
    long x = 42;
    for (int i = 0; i < random.length; i++) {
      x = (x * 1103515245L + 12345L) & 0x7fffffffL;
      random[i] = (byte) ((x >>> 16) & 0xff);
    }
    in.put("random", random);
    byte[] run = new byte[100000];
    java.util.Arrays.fill(run, (byte) 'x');
    in.put("run", run);
    StringBuilder mixed = new StringBuilder();
    for (int i = 0; i < 2100; i++) {
      mixed.append("event ").append(i).append(" ключ värde ✓ ").append(i % 7).append('\n');
    }
    in.put("mixed_utf8", mixed.toString().getBytes(StandardCharsets.UTF_8));
    byte[] cycle = new byte[70000];
    for (int i = 0; i < cycle.length; i++) cycle[i] = (byte) (i & 0xff);
    in.put("byte_cycle", cycle);
    return in;
  }

  static CompressionCodec codec(String type) {
    return CompressionCodecProvider.getCompressionCodec(CompressionType.valueOf(type));
  }

  static byte[] bytes(ByteBuf buf) {
    return ByteBufUtil.getBytes(buf);
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("decode")) {
      decode();
      return;
    }
    StringBuilder json = new StringBuilder("{\n");
    boolean first = true;
    for (Map.Entry<String, byte[]> e : inputs().entrySet()) {
      byte[] input = e.getValue();
      CRC32C crc = new CRC32C();
      crc.update(input);
      json.append(first ? "" : ",\n").append("  \"").append(e.getKey()).append("\": {");
      json.append("\"length\": ").append(input.length).append(", \"crc32c\": ").append(crc.getValue());
      for (String type : TYPES) {
        byte[] packed = bytes(codec(type).encode(Unpooled.wrappedBuffer(input)));
        json.append(", \"").append(type).append("\": \"").append(ByteBufUtil.hexDump(packed)).append('"');
      }
      json.append("}");
      first = false;
    }
    System.out.print(json.append("\n}\n"));
  }

  static void decode() throws Exception {
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = reader.readLine()) != null) {
      String[] parts = line.split(" ", -1);
      try {
        byte[] packed = ByteBufUtil.decodeHexDump(parts[2]);
        ByteBuf out = codec(parts[0]).decode(Unpooled.wrappedBuffer(packed), Integer.parseInt(parts[1]));
        System.out.println(ByteBufUtil.hexDump(out));
      } catch (Exception err) {
        System.out.println("ERROR " + err);
      }
    }
  }
}
