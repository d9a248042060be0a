// Golden key hashes and partitions computed by the Java client's own classes (pulsar-client
// 4.0.8: JavaStringHash, Murmur3Hash32, MathUtils.signSafeMod), for lib/pulsar/routing_test.ts.
//
//   java GoldenRouting > golden_routing.json

import org.apache.pulsar.client.impl.JavaStringHash;
import org.apache.pulsar.client.impl.Murmur3Hash32;
import org.apache.pulsar.client.util.MathUtils;

public class GoldenRouting {
  static final String[] KEYS = {
    "", "a", "user-42", "order-7", "SFO", "persistent://public/default/payments",
    "ключ", "värde", "✓", "日本語のキー", "emoji 🚀 key", "\uD83D", "polygenelubricants",
    "Aa", "BB", "a".repeat(300), "x\uDC00y", "The quick brown fox jumps over the lazy dog",
  };
  static final int[] PARTITIONS = {1, 3, 7, 16, 100};

  // Keys as UTF-16 code units: JSON tools reject lone surrogates, which Java strings allow.
  static String units(String s) {
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < s.length(); i++) out.append(i == 0 ? "" : ", ").append((int) s.charAt(i));
    return out.append(']').toString();
  }

  public static void main(String[] args) {
    StringBuilder json = new StringBuilder("[\n");
    for (int i = 0; i < KEYS.length; i++) {
      String key = KEYS[i];
      int java = JavaStringHash.getInstance().makeHash(key);
      int murmur = Murmur3Hash32.getInstance().makeHash(key);
      json.append("  {\"keyUnits\": ").append(units(key));
      json.append(", \"javaStringHash\": ").append(java);
      json.append(", \"murmur3_32Hash\": ").append(murmur);
      json.append(", \"partitions\": {");
      for (int p = 0; p < PARTITIONS.length; p++) {
        int n = PARTITIONS[p];
        json.append(p == 0 ? "" : ", ").append('"').append(n).append("\": [")
            .append(MathUtils.signSafeMod(java, n)).append(", ")
            .append(MathUtils.signSafeMod(murmur, n)).append(']');
      }
      json.append("}}").append(i + 1 < KEYS.length ? ",\n" : "\n");
    }
    json.append("]\n");
    System.out.print(json);
  }
}
