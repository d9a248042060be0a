// The Java client's side of the chunking interop test (test/integration/pulsar_chunking_test.ts):
// it produces one chunked message from a file, or consumes one message into a file, with the
// official client of the broker's distribution.
//
//   java -cp "<classes>:<pulsar>/lib/*" ChunkInterop produce <serviceUrl> <topic> <file> <chunkBytes>
//   java -cp "<classes>:<pulsar>/lib/*" ChunkInterop consume <serviceUrl> <topic> <sub> <file>
// produce prints the message id; consume prints the message id and its number of bytes.

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.*;

public class ChunkInterop {
  public static void main(String[] args) throws Exception {
    try (PulsarClient client = PulsarClient.builder().serviceUrl(args[1]).build()) {
      if (args[0].equals("produce")) {
        byte[] payload = Files.readAllBytes(Paths.get(args[3]));
        try (Producer<byte[]> producer = client.newProducer()
            .topic(args[2])
            .enableBatching(false)
            .enableChunking(true)
            .chunkMaxMessageSize(Integer.parseInt(args[4]))
            .compressionType(CompressionType.LZ4)
            .create()) {
          MessageId id = producer.newMessage().key("chunky").property("origin", "java")
              .value(payload).send();
          System.out.println(id);
        }
      } else {
        try (Consumer<byte[]> consumer = client.newConsumer()
            .topic(args[2])
            .subscriptionName(args[3])
            .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
            .subscribe()) {
          Message<byte[]> msg = consumer.receive(60, TimeUnit.SECONDS);
          if (msg == null) throw new IllegalStateException("no message within 60 s");
          Files.write(Paths.get(args[4]), msg.getValue());
          consumer.acknowledge(msg);
          System.out.println(msg.getMessageId() + " " + msg.getValue().length);
        }
      }
    }
  }
}
