// The Java client's side of the schema interop tests (test/integration/schema_interop_test.ts):
// produces with the Java client's schemas (POJO AVRO and JSON, PROTOBUF_NATIVE, the legacy
// PROTOBUF, KeyValue INLINE and SEPARATED, every primitive, two versions of one Avro schema),
// writing what it sent as JSON lines rendered by Jackson; and consumes with a given schema,
// printing each value as JSON.
//
//   java SchemaInterop produce <serviceUrl> <topicPrefix> <expected.ndjson>
//   java SchemaInterop consume <serviceUrl> <out.ndjson> (<topic> <kind> <count>)...
//        kind: avro | json | string | protobuf-native | kv-separated (INT32, JSON(Reading))
//   java SchemaInterop flights <serviceUrl> <topic> <flights.ndjson>
//   java SchemaInterop bench <serviceUrl> <avroTopic> <jsonTopic> <n>
//   java SchemaInterop protobuf <serviceUrl> <topic> <expected.ndjson>  (the PROTOBUF case alone)
//   java SchemaInterop parsing-info <file.json>  (Field's descriptor: number, name, type, label)
//   java SchemaInterop files <base>   (writes <base>.avsc: Reading's Avro schema, <base>.pb: a
//                                      FileDescriptorSet holding google.protobuf.Field)

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.*;
import org.apache.pulsar.client.api.schema.*;
import org.apache.pulsar.common.schema.*;

public class SchemaInterop {
  static final ObjectMapper JSON = new ObjectMapper();

  /** The POJO behind the AVRO and JSON cases. */
  public static class Reading {
    public String sensor;
    public int count;
    public long total;
    public double temp;
    public float ratio;
    public boolean ok;
    public String note;
    public List<String> tags;

    public Reading() {}

    Reading(int i) {
      sensor = "s-" + i;
      count = i;
      total = 10_000_000_000L + i;
      temp = 20.25 + i;
      ratio = 0.5f + i;
      ok = i % 2 == 0;
      note = i % 3 == 0 ? null : "n" + i;
      tags = Arrays.asList("a" + i, "b");
    }
  }

  /** One flight of examples/data as the Avro POJO a team's service would have. */
  public static class Flight {
    public String date;
    public String origin;
    public String destination;
    public int distance;
    public int delay;
    public Flight() {}
  }

  static PrintWriter out;

  static void expect(String topic, String kind, Object value) throws Exception {
    ObjectNode line = JSON.createObjectNode();
    line.put("topic", topic);
    line.put("kind", kind);
    line.set("value", JSON.valueToTree(value));
    out.println(JSON.writeValueAsString(line));
  }

  static <T> void send(PulsarClient client, String topic, String kind, Schema<T> schema,
      List<T> values, List<Object> rendered) throws Exception {
    try (Producer<T> producer = client.newProducer(schema).topic(topic).enableBatching(false)
        .create()) {
      for (int i = 0; i < values.size(); i++) {
        producer.send(values.get(i));
        expect(topic, kind, rendered.get(i));
      }
    }
  }

  static <T> void sendSame(PulsarClient client, String topic, String kind, Schema<T> schema,
      List<T> values) throws Exception {
    send(client, topic, kind, schema, values, new ArrayList<>(values));
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** google.protobuf.Field's file and the files it imports, as protoc --include_imports. */
  static byte[] descriptorSet() {
    com.google.protobuf.DescriptorProtos.FileDescriptorSet.Builder set =
        com.google.protobuf.DescriptorProtos.FileDescriptorSet.newBuilder();
    Set<String> seen = new HashSet<>();
    Deque<com.google.protobuf.Descriptors.FileDescriptor> todo = new ArrayDeque<>();
    todo.push(com.google.protobuf.Field.getDescriptor().getFile());
    List<com.google.protobuf.DescriptorProtos.FileDescriptorProto> files = new ArrayList<>();
    while (!todo.isEmpty()) {
      com.google.protobuf.Descriptors.FileDescriptor f = todo.pop();
      if (!seen.add(f.getName())) continue;
      files.add(0, f.toProto());
      for (com.google.protobuf.Descriptors.FileDescriptor d : f.getDependencies()) todo.push(d);
    }
    files.forEach(set::addFile);
    return set.build().toByteArray();
  }

  static Map<String, Object> render(com.google.protobuf.Field f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", f.getName());
    m.put("number", f.getNumber());
    m.put("kind", f.getKind().name());
    m.put("packed", f.getPacked());
    m.put("json_name", f.getJsonName());
    m.put("option_name", f.getOptionsCount() > 0 ? f.getOptions(0).getName() : null);
    return m;
  }

  /**
   * Every field of a Field as the Java getters give it, enums by name, a message field (options)
   * as each Option's protobuf bytes in base64: what edgepipe's PROTOBUF decode must give.
   */
  static Map<String, Object> renderAll(com.google.protobuf.Field f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", f.getKind().name());
    m.put("cardinality", f.getCardinality().name());
    m.put("number", f.getNumber());
    m.put("name", f.getName());
    m.put("type_url", f.getTypeUrl());
    m.put("oneof_index", f.getOneofIndex());
    m.put("packed", f.getPacked());
    List<String> options = new ArrayList<>();
    for (com.google.protobuf.Option o : f.getOptionsList()) options.add(b64(o.toByteArray()));
    m.put("options", options);
    m.put("json_name", f.getJsonName());
    m.put("default_value", f.getDefaultValue());
    return m;
  }

  /** Field's top-level fields as its descriptor has them: what __PARSING_INFO__ should list. */
  static void parsingInfo(String file) throws Exception {
    List<Object> out = new ArrayList<>();
    for (com.google.protobuf.Descriptors.FieldDescriptor d
        : com.google.protobuf.Field.getDescriptor().getFields()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("number", d.getNumber());
      m.put("name", d.getName());
      m.put("type", d.getType().name());
      m.put("label", d.toProto().getLabel().name());
      out.add(m);
    }
    Files.writeString(Paths.get(file), JSON.writeValueAsString(out));
  }

  /** The schemas edgepipe's producer is given in the other direction: Java's own. */
  static void files(String base) throws Exception {
    Files.write(Paths.get(base + ".avsc"), Schema.AVRO(Reading.class).getSchemaInfo()
        .getSchema());
    Files.write(Paths.get(base + ".pb"), descriptorSet());
  }

  static void produce(String url, String prefix, String expected) throws Exception {
    out = new PrintWriter(Files.newBufferedWriter(Paths.get(expected), StandardCharsets.UTF_8));
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build()) {
      List<Reading> readings = new ArrayList<>();
      for (int i = 0; i < 4; i++) readings.add(new Reading(i));
      sendSame(client, prefix + "-avro", "AVRO", Schema.AVRO(Reading.class), readings);
      sendSame(client, prefix + "-json", "JSON", Schema.JSON(Reading.class), readings);

      // PROTOBUF_NATIVE with a message class protobuf-java ships (google.protobuf.Field).
      List<com.google.protobuf.Field> fields = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        fields.add(com.google.protobuf.Field.newBuilder().setName("f" + i).setNumber(i)
            .setKind(com.google.protobuf.Field.Kind.TYPE_INT64).setPacked(i == 2)
            .setJsonName("j" + i).addOptions(com.google.protobuf.Option.newBuilder()
                .setName("o" + i)).build());
      }
      List<Object> pbRendered = new ArrayList<>();
      for (com.google.protobuf.Field f : fields) pbRendered.add(render(f));
      send(client, prefix + "-protobuf-native", "PROTOBUF_NATIVE",
          Schema.PROTOBUF_NATIVE(com.google.protobuf.Field.class), fields, pbRendered);

      protobufLegacy(client, prefix + "-protobuf");

      // KeyValue, both encodings.
      List<KeyValue<String, Reading>> inline = new ArrayList<>();
      List<Object> inlineRendered = new ArrayList<>();
      List<KeyValue<Integer, Reading>> separated = new ArrayList<>();
      List<Object> separatedRendered = new ArrayList<>();
      for (Reading r : readings) {
        inline.add(new KeyValue<>("k-" + r.count, r));
        inlineRendered.add(Map.of("key", "k-" + r.count, "value", r));
        separated.add(new KeyValue<>(1000 + r.count, r));
        separatedRendered.add(Map.of("key", 1000 + r.count, "value", r));
      }
      send(client, prefix + "-kv-inline", "KEY_VALUE",
          Schema.KeyValue(Schema.STRING, Schema.AVRO(Reading.class), KeyValueEncodingType.INLINE),
          inline, inlineRendered);
      send(client, prefix + "-kv-separated", "KEY_VALUE",
          Schema.KeyValue(Schema.INT32, Schema.JSON(Reading.class), KeyValueEncodingType.SEPARATED),
          separated, separatedRendered);

      // Every primitive, rendered as edgepipe documents them (Java's own toString for java.time).
      sendSame(client, prefix + "-string", "STRING", Schema.STRING, List.of("héllo ✓", "", "x"));
      sendSame(client, prefix + "-int8", "INT8", Schema.INT8, List.of((byte) -128, (byte) 127));
      sendSame(client, prefix + "-int16", "INT16", Schema.INT16, List.of((short) -32768, (short) 7));
      sendSame(client, prefix + "-int32", "INT32", Schema.INT32, List.of(Integer.MIN_VALUE, 42));
      sendSame(client, prefix + "-int64", "INT64", Schema.INT64,
          List.of(-9007199254740991L, 1732400000000L));
      sendSame(client, prefix + "-float", "FLOAT", Schema.FLOAT, List.of(1.5f, -0.25f));
      sendSame(client, prefix + "-double", "DOUBLE", Schema.DOUBLE, List.of(Math.PI, -1e300));
      sendSame(client, prefix + "-boolean", "BOOLEAN", Schema.BOOL, List.of(true, false));
      byte[] blob = {0, 1, 2, (byte) 255};
      send(client, prefix + "-bytes", "BYTES", Schema.BYTES, List.of(blob), List.of(b64(blob)));
      Date date = new Date(1732400000123L);
      send(client, prefix + "-date", "DATE", Schema.DATE, List.of(date), List.of(date.getTime()));
      java.sql.Time time = new java.sql.Time(45_296_789L);
      send(client, prefix + "-time", "TIME", Schema.TIME, List.of(time), List.of(time.getTime()));
      java.sql.Timestamp ts = new java.sql.Timestamp(1732400000456L);
      send(client, prefix + "-timestamp", "TIMESTAMP", Schema.TIMESTAMP, List.of(ts),
          List.of(ts.getTime()));
      List<Instant> instants = List.of(Instant.ofEpochSecond(1732400000L, 123456789),
          Instant.ofEpochSecond(0), Instant.ofEpochSecond(-86401, 500_000_000));
      send(client, prefix + "-instant", "INSTANT", Schema.INSTANT, instants,
          strings(instants));
      List<LocalDate> dates = List.of(LocalDate.of(2001, 3, 12), LocalDate.of(1969, 12, 31));
      send(client, prefix + "-local-date", "LOCAL_DATE", Schema.LOCAL_DATE, dates, strings(dates));
      List<LocalTime> times = List.of(LocalTime.of(7, 5), LocalTime.of(23, 59, 58, 1000),
          LocalTime.of(0, 0, 1, 120_000_000));
      send(client, prefix + "-local-time", "LOCAL_TIME", Schema.LOCAL_TIME, times, strings(times));
      List<LocalDateTime> dts = List.of(LocalDateTime.of(2001, 3, 12, 6, 30, 15, 7));
      send(client, prefix + "-local-date-time", "LOCAL_DATE_TIME", Schema.LOCAL_DATE_TIME, dts,
          strings(dts));

      // Two versions of one Avro schema in one topic: v2 adds a field with a default.
      String v1 = "{\"type\":\"record\",\"name\":\"Evolving\",\"namespace\":\"interop\",\"fields\":"
          + "[{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"name\",\"type\":\"string\"}]}";
      String v2 = "{\"type\":\"record\",\"name\":\"Evolving\",\"namespace\":\"interop\",\"fields\":"
          + "[{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"name\",\"type\":\"string\"},"
          + "{\"name\":\"unit\",\"type\":\"string\",\"default\":\"C\"}]}";
      String evolving = prefix + "-evolving";
      evolve(client, evolving, v1, 1, false);
      evolve(client, evolving, v2, 2, true);
    }
    out.close();
  }

  /**
   * The legacy PROTOBUF schema (an Avro record derived from the class, and the top-level field
   * numbers in __PARSING_INFO__): three Fields, each of its fields set in one or another.
   */
  static void protobufLegacy(PulsarClient client, String topic) throws Exception {
    List<com.google.protobuf.Field> legacy = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      com.google.protobuf.Field.Builder b = com.google.protobuf.Field.newBuilder()
          .setName("f" + i).setNumber(i == 3 ? -3 : i)
          .setKind(com.google.protobuf.Field.Kind.forNumber(i * 6))
          .setPacked(i == 2).setJsonName("j" + i);
      if (i >= 2) {
        b.setCardinality(com.google.protobuf.Field.Cardinality.CARDINALITY_REPEATED)
            .setTypeUrl("type.googleapis.com/x.Y" + i).setOneofIndex(i).setDefaultValue("d" + i);
        for (int k = 0; k < i; k++) {
          b.addOptions(com.google.protobuf.Option.newBuilder().setName("o" + i + k)
              .setValue(com.google.protobuf.Any.newBuilder().setTypeUrl("t/" + k)
                  .setValue(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) k}))));
        }
      }
      legacy.add(b.build());
    }
    List<Object> legacyRendered = new ArrayList<>();
    for (com.google.protobuf.Field f : legacy) legacyRendered.add(renderAll(f));
    send(client, topic, "PROTOBUF",
        Schema.PROTOBUF(com.google.protobuf.Field.class), legacy, legacyRendered);
  }

  /** The PROTOBUF case alone, for the tests that look at it closer. */
  static void protobufOnly(String url, String topic, String expected) throws Exception {
    out = new PrintWriter(Files.newBufferedWriter(Paths.get(expected), StandardCharsets.UTF_8));
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build()) {
      protobufLegacy(client, topic);
    }
    out.close();
  }

  static void evolve(PulsarClient client, String topic, String def, int id, boolean withUnit)
      throws Exception {
    SchemaInfo info = SchemaInfo.builder().name("Evolving").type(SchemaType.AVRO)
        .schema(def.getBytes(StandardCharsets.UTF_8)).properties(Map.of()).build();
    GenericSchema<GenericRecord> schema = Schema.generic(info);
    try (Producer<GenericRecord> producer = client.newProducer(schema).topic(topic).create()) {
      GenericRecordBuilder b = schema.newRecordBuilder().set("id", id).set("name", "v" + id);
      if (withUnit) b.set("unit", "K");
      producer.send(b.build());
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("name", "v" + id);
    if (withUnit) m.put("unit", "K");
    expect(topic, "AVRO", m);
  }

  static List<Object> strings(List<?> values) {
    List<Object> out = new ArrayList<>();
    for (Object v : values) out.add(v.toString());
    return out;
  }

  /** Reads each (topic, kind, count) of `cases` in turn with one client. */
  static void consume(String url, String file, String[] cases) throws Exception {
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build();
        PrintWriter w = new PrintWriter(Files.newBufferedWriter(Paths.get(file)))) {
      for (int i = 0; i + 2 < cases.length; i += 3) {
        consumeOne(client, w, cases[i], cases[i + 1], Integer.parseInt(cases[i + 2]));
      }
    }
  }

  static void consumeOne(PulsarClient client, PrintWriter w, String topic, String kind, int count)
      throws Exception {
    {
      Schema<?> schema = kind.equals("avro") ? Schema.AVRO(Reading.class)
          : kind.equals("json") ? Schema.JSON(Reading.class)
          : kind.equals("protobuf-native") ? Schema.PROTOBUF_NATIVE(com.google.protobuf.Field.class)
          : kind.equals("kv-separated") ? Schema.KeyValue(Schema.INT32, Schema.JSON(Reading.class),
              KeyValueEncodingType.SEPARATED)
          : Schema.STRING;
      try (Consumer<?> consumer = client.newConsumer(schema).topic(topic)
          .subscriptionName("java-check").subscriptionInitialPosition(
              SubscriptionInitialPosition.Earliest).subscribe()) {
        for (int i = 0; i < count; i++) {
          Message<?> msg = consumer.receive(30, TimeUnit.SECONDS);
          if (msg == null) throw new IllegalStateException("only " + i + " messages");
          ObjectNode line = JSON.createObjectNode();
          line.put("topic", topic);
          Object value = msg.getValue();
          if (value instanceof com.google.protobuf.Field f) value = render(f);
          if (value instanceof KeyValue<?, ?> kv) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", kv.getKey());
            m.put("value", kv.getValue());
            value = m;
          }
          line.set("value", JSON.valueToTree(value));
          line.put("key", msg.getKey());
          line.put("version", msg.getSchemaVersion() == null ? -1
              : java.nio.ByteBuffer.wrap(msg.getSchemaVersion()).getLong());
          w.println(JSON.writeValueAsString(line));
          consumer.acknowledge(msg);
        }
      }
    }
  }

  static void flights(String url, String topic, String file) throws Exception {
    List<String> lines = Files.readAllLines(Paths.get(file));
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build();
        Producer<Flight> producer = client.newProducer(Schema.AVRO(Flight.class)).topic(topic)
            .create()) {
      for (String line : lines) {
        if (line.isBlank()) continue;
        JsonNode node = JSON.readTree(line);
        Flight f = JSON.treeToValue(node.get("value"), Flight.class);
        producer.newMessage().key(node.get("key").asText())
            .eventTime(node.get("eventTime").asLong()).value(f).sendAsync();
      }
      producer.flush();
    }
  }

  /** The benchmark's input: n Readings with Schema.AVRO, and the same as schemaless JSON. */
  static void bench(String url, String avroTopic, String jsonTopic, int n) throws Exception {
    try (PulsarClient client = PulsarClient.builder().serviceUrl(url).build();
        Producer<Reading> avro = client.newProducer(Schema.AVRO(Reading.class)).topic(avroTopic)
            .blockIfQueueFull(true).create();
        Producer<byte[]> json = client.newProducer().topic(jsonTopic).blockIfQueueFull(true)
            .create()) {
      for (int i = 0; i < n; i++) {
        Reading r = new Reading(i);
        avro.sendAsync(r);
        json.sendAsync(JSON.writeValueAsBytes(r));
      }
      avro.flush();
      json.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "produce" -> produce(args[1], args[2], args[3]);
      case "consume" -> consume(args[1], args[2], Arrays.copyOfRange(args, 3, args.length));
      case "flights" -> flights(args[1], args[2], args[3]);
      case "files" -> files(args[1]);
      case "parsing-info" -> parsingInfo(args[1]);
      case "protobuf" -> protobufOnly(args[1], args[2], args[3]);
      case "bench" -> bench(args[1], args[2], args[3], Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
