// Writes golden Pulsar frames encoded by the Java client's own protocol classes (pulsar-common
// 4.0.8: LightProto messages, Commands.serializeWithSize, Commands.serializeMetadataAndPayload),
// so that edgepipe's TypeScript codec is checked against bytes it did not produce itself.
//
// Run with: lib/pulsar/wire/testdata/generate_golden.sh
// Every case here has a twin object literal in lib/pulsar/wire/golden_test.ts.

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pulsar.common.api.proto.*;
import org.apache.pulsar.common.protocol.Commands;

public class GoldenFrames {
  static final String TOPIC = "persistent://public/default/payments";
  static final Map<String, String> out = new LinkedHashMap<>();

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void simple(String name, BaseCommand cmd) {
    ByteBuf buf = Commands.serializeWithSize(cmd);
    out.put(name, ByteBufUtil.hexDump(buf));
  }

  static BaseCommand base(BaseCommand.Type type) {
    return new BaseCommand().setType(type);
  }

  /** [total][cmdSize][cmd] + prefix + serializeMetadataAndPayload(Crc32c, md, payload). */
  static void withPayload(String name, BaseCommand cmd, MessageMetadata md, byte[] payload,
      BrokerEntryMetadata entry) {
    ByteBuf headersAndPayload = Commands.serializeMetadataAndPayload(
        Commands.ChecksumType.Crc32c, md, Unpooled.wrappedBuffer(payload));
    ByteBuf prefix = Unpooled.buffer();
    if (entry != null) {
      prefix.writeShort(0x0e02);
      prefix.writeInt(entry.getSerializedSize());
      entry.writeTo(prefix);
    }
    int cmdSize = cmd.getSerializedSize();
    ByteBuf frame = Unpooled.buffer();
    frame.writeInt(4 + cmdSize + prefix.readableBytes() + headersAndPayload.readableBytes());
    frame.writeInt(cmdSize);
    cmd.writeTo(frame);
    frame.writeBytes(prefix);
    frame.writeBytes(headersAndPayload);
    out.put(name, ByteBufUtil.hexDump(frame));
  }

  static void messageId(MessageIdData id, long ledger, long entry, int partition, int batchIndex) {
    id.setLedgerId(ledger).setEntryId(entry).setPartition(partition).setBatchIndex(batchIndex);
  }

  static MessageMetadata richMetadata() {
    MessageMetadata md = new MessageMetadata()
        .setProducerName("edge-1")
        .setSequenceId(42)
        .setPublishTime(1732400000000L);
    md.addProperty().setKey("source").setValue("web");
    md.addProperty().setKey("ключ").setValue("värde ✓");
    md.setReplicatedFrom("east");
    md.setPartitionKey("user-42");
    md.addReplicateTo("west");
    md.setCompression(CompressionType.LZ4);
    md.setUncompressedSize(100);
    md.setNumMessagesInBatch(2);
    md.setEventTime(1732399999000L);
    md.setSchemaVersion(new byte[] {0, 0, 0, 0, 0, 0, 0, 3});
    md.setOrderingKey(utf8("order-7"));
    md.setHighestSequenceId(43);
    return md;
  }

  public static void main(String[] args) {
    // --- connect family
    BaseCommand connect = base(BaseCommand.Type.CONNECT);
    connect.setConnect().setClientVersion("edgepipe-0.1.0").setProtocolVersion(21)
        .setAuthMethodName("token").setAuthData(utf8("secret"));
    connect.getConnect().setFeatureFlags().setSupportsAuthRefresh(true)
        .setSupportsBrokerEntryMetadata(true);
    simple("connect", connect);

    BaseCommand connected = base(BaseCommand.Type.CONNECTED);
    connected.setConnected().setServerVersion("Pulsar Server4.0.8").setProtocolVersion(21)
        .setMaxMessageSize(5242880);
    connected.getConnected().setFeatureFlags().setSupportsTopicWatchers(true);
    simple("connected", connected);

    BaseCommand ping = base(BaseCommand.Type.PING);
    ping.setPing();
    simple("ping", ping);
    BaseCommand pong = base(BaseCommand.Type.PONG);
    pong.setPong();
    simple("pong", pong);

    BaseCommand challenge = base(BaseCommand.Type.AUTH_CHALLENGE);
    challenge.setAuthChallenge().setServerVersion("Pulsar Server4.0.8").setProtocolVersion(21)
        .setChallenge().setAuthMethodName("token").setAuthData(utf8("refresh"));
    simple("auth_challenge", challenge);

    BaseCommand authResponse = base(BaseCommand.Type.AUTH_RESPONSE);
    authResponse.setAuthResponse().setClientVersion("edgepipe-0.1.0").setProtocolVersion(21)
        .setResponse().setAuthMethodName("token").setAuthData(utf8("new-token"));
    simple("auth_response", authResponse);

    // --- responses
    BaseCommand success = base(BaseCommand.Type.SUCCESS);
    success.setSuccess().setRequestId(3);
    simple("success", success);

    BaseCommand error = base(BaseCommand.Type.ERROR);
    error.setError().setRequestId(7).setError(ServerError.TopicNotFound)
        .setMessage("Topic not found");
    simple("error", error);

    BaseCommand migrated = base(BaseCommand.Type.TOPIC_MIGRATED);
    migrated.setTopicMigrated().setResourceId(1)
        .setResourceType(CommandTopicMigrated.ResourceType.Consumer)
        .setBrokerServiceUrl("pulsar://green:6650");
    simple("topic_migrated", migrated);

    // --- lookup family
    BaseCommand lookup = base(BaseCommand.Type.LOOKUP);
    lookup.setLookupTopic().setTopic(TOPIC).setRequestId(2).setAuthoritative(false);
    lookup.getLookupTopic().addProperty().setKey("region").setValue("eu");
    simple("lookup", lookup);

    BaseCommand lookupResponse = base(BaseCommand.Type.LOOKUP_RESPONSE);
    lookupResponse.setLookupTopicResponse().setBrokerServiceUrl("pulsar://127.0.0.1:6650")
        .setResponse(CommandLookupTopicResponse.LookupType.Connect).setRequestId(2)
        .setAuthoritative(true).setProxyThroughServiceUrl(false);
    simple("lookup_response", lookupResponse);

    BaseCommand lookupFailed = base(BaseCommand.Type.LOOKUP_RESPONSE);
    lookupFailed.setLookupTopicResponse()
        .setResponse(CommandLookupTopicResponse.LookupType.Failed).setRequestId(5)
        .setError(ServerError.ServiceNotReady).setMessage("Namespace bundle is being unloaded");
    simple("lookup_response_failed", lookupFailed);

    BaseCommand partitioned = base(BaseCommand.Type.PARTITIONED_METADATA);
    partitioned.setPartitionMetadata().setTopic(TOPIC).setRequestId(1)
        .setMetadataAutoCreationEnabled(true);
    simple("partitioned_metadata", partitioned);

    BaseCommand partitionedResponse = base(BaseCommand.Type.PARTITIONED_METADATA_RESPONSE);
    partitionedResponse.setPartitionMetadataResponse().setPartitions(4).setRequestId(1)
        .setResponse(CommandPartitionedTopicMetadataResponse.LookupType.Success);
    simple("partitioned_metadata_response", partitionedResponse);

    BaseCommand topics = base(BaseCommand.Type.GET_TOPICS_OF_NAMESPACE);
    topics.setGetTopicsOfNamespace().setRequestId(15).setNamespace("public/default")
        .setMode(CommandGetTopicsOfNamespace.Mode.ALL)
        .setTopicsPattern("persistent://public/default/pay.*");
    simple("get_topics_of_namespace", topics);

    BaseCommand topicsResponse = base(BaseCommand.Type.GET_TOPICS_OF_NAMESPACE_RESPONSE);
    CommandGetTopicsOfNamespaceResponse tr = topicsResponse.setGetTopicsOfNamespaceResponse();
    tr.setRequestId(15);
    tr.addTopic(TOPIC);
    tr.addTopic("persistent://public/default/payouts");
    tr.setFiltered(true).setTopicsHash("6a3f").setChanged(true);
    simple("get_topics_of_namespace_response", topicsResponse);

    BaseCommand getSchema = base(BaseCommand.Type.GET_SCHEMA);
    getSchema.setGetSchema().setRequestId(16).setTopic(TOPIC)
        .setSchemaVersion(new byte[] {0, 0, 0, 0, 0, 0, 0, 1});
    simple("get_schema", getSchema);

    BaseCommand schemaResponse = base(BaseCommand.Type.GET_SCHEMA_RESPONSE);
    CommandGetSchemaResponse sr = schemaResponse.setGetSchemaResponse().setRequestId(16)
        .setSchemaVersion(new byte[] {0, 0, 0, 0, 0, 0, 0, 1});
    sr.setSchema().setName("payments").setSchemaData(utf8("{\"type\":\"record\"}"))
        .setType(Schema.Type.Json).addProperty().setKey("owner").setValue("edge");
    simple("get_schema_response", schemaResponse);

    BaseCommand getOrCreate = base(BaseCommand.Type.GET_OR_CREATE_SCHEMA);
    getOrCreate.setGetOrCreateSchema().setRequestId(19).setTopic(TOPIC).setSchema()
        .setName("payments").setSchemaData(utf8("{\"type\":\"record\",\"name\":\"P\"}"))
        .setType(Schema.Type.Avro).addProperty().setKey("__alwaysAllowNull").setValue("true");
    simple("get_or_create_schema", getOrCreate);

    BaseCommand created = base(BaseCommand.Type.GET_OR_CREATE_SCHEMA_RESPONSE);
    created.setGetOrCreateSchemaResponse().setRequestId(19)
        .setSchemaVersion(new byte[] {0, 0, 0, 0, 0, 0, 0, 2});
    simple("get_or_create_schema_response", created);

    BaseCommand refused = base(BaseCommand.Type.GET_OR_CREATE_SCHEMA_RESPONSE);
    refused.setGetOrCreateSchemaResponse().setRequestId(20)
        .setErrorCode(ServerError.IncompatibleSchema)
        .setErrorMessage("Incompatible schema: field amount removed");
    simple("get_or_create_schema_response_refused", refused);

    // --- producer family
    BaseCommand producer = base(BaseCommand.Type.PRODUCER);
    producer.setProducer().setTopic(TOPIC).setProducerId(1).setRequestId(3)
        .setProducerName("edge-1").setUserProvidedProducerName(true)
        .setProducerAccessMode(ProducerAccessMode.Exclusive);
    producer.getProducer().addMetadata().setKey("app").setValue("edgepipe");
    simple("producer", producer);

    BaseCommand producerSchema = base(BaseCommand.Type.PRODUCER);
    producerSchema.setProducer().setTopic(TOPIC).setProducerId(2).setRequestId(4).setSchema()
        .setName("payments").setSchemaData(utf8("\"string\"")).setType(Schema.Type.String);
    simple("producer_schema", producerSchema);

    BaseCommand producerSuccess = base(BaseCommand.Type.PRODUCER_SUCCESS);
    producerSuccess.setProducerSuccess().setRequestId(3).setProducerName("standalone-0-1")
        .setLastSequenceId(-1).setSchemaVersion(new byte[0]).setProducerReady(true);
    simple("producer_success", producerSuccess);

    BaseCommand send = base(BaseCommand.Type.SEND);
    send.setSend().setProducerId(1).setSequenceId(42).setNumMessages(2).setHighestSequenceId(43);
    withPayload("send", send, richMetadata(), utf8("{\"amount\":12.5}"), null);

    BaseCommand sendPlain = base(BaseCommand.Type.SEND);
    sendPlain.setSend().setProducerId(7).setSequenceId(0);
    MessageMetadata plain = new MessageMetadata().setProducerName("p").setSequenceId(0)
        .setPublishTime(1732400000000L);
    withPayload("send_plain", sendPlain, plain, new byte[0], null);

    BaseCommand receipt = base(BaseCommand.Type.SEND_RECEIPT);
    receipt.setSendReceipt().setProducerId(1).setSequenceId(42).setHighestSequenceId(43);
    messageId(receipt.getSendReceipt().setMessageId(), 12, 34, -1, -1);
    simple("send_receipt", receipt);

    BaseCommand sendError = base(BaseCommand.Type.SEND_ERROR);
    sendError.setSendError().setProducerId(1).setSequenceId(43)
        .setError(ServerError.ChecksumError).setMessage("Checksum failed on the broker");
    simple("send_error", sendError);

    BaseCommand closeProducer = base(BaseCommand.Type.CLOSE_PRODUCER);
    closeProducer.setCloseProducer().setProducerId(1).setRequestId(9)
        .setAssignedBrokerServiceUrl("pulsar://broker-2:6650");
    simple("close_producer", closeProducer);

    // --- consumer family
    BaseCommand subscribe = base(BaseCommand.Type.SUBSCRIBE);
    CommandSubscribe sub = subscribe.setSubscribe().setTopic(TOPIC).setSubscription("scorer")
        .setSubType(CommandSubscribe.SubType.Key_Shared).setConsumerId(2).setRequestId(4)
        .setConsumerName("c-1").setDurable(true)
        .setInitialPosition(CommandSubscribe.InitialPosition.Earliest);
    messageId(sub.setStartMessageId(), Long.MAX_VALUE, Long.MAX_VALUE, -1, -1);
    sub.addMetadata().setKey("host").setValue("edge-box");
    KeySharedMeta ks = sub.setKeySharedMeta().setKeySharedMode(KeySharedMode.STICKY)
        .setAllowOutOfOrderDelivery(false);
    ks.addHashRange().setStart(0).setEnd(32767);
    ks.addHashRange().setStart(40000).setEnd(65535);
    simple("subscribe", subscribe);

    BaseCommand flow = base(BaseCommand.Type.FLOW);
    flow.setFlow().setConsumerId(2).setMessagePermits(1000);
    simple("flow", flow);

    BaseCommand message = base(BaseCommand.Type.MESSAGE);
    message.setMessage().setConsumerId(2).setRedeliveryCount(1);
    messageId(message.getMessage().setMessageId(), 12, 34, 0, -1);
    message.getMessage().addAckSet(3);
    withPayload("message", message, richMetadata(), utf8("batch-bytes"), null);

    BaseCommand entryMessage = base(BaseCommand.Type.MESSAGE);
    entryMessage.setMessage().setConsumerId(2).setRedeliveryCount(0);
    messageId(entryMessage.getMessage().setMessageId(), 12, 35, -1, -1);
    BrokerEntryMetadata entry = new BrokerEntryMetadata().setBrokerTimestamp(1732400000123L)
        .setIndex(99);
    MessageMetadata small = new MessageMetadata().setProducerName("p").setSequenceId(1)
        .setPublishTime(1732400000100L);
    withPayload("message_broker_entry", entryMessage, small, utf8("hi"), entry);

    BaseCommand ack = base(BaseCommand.Type.ACK);
    CommandAck a = ack.setAck().setConsumerId(2).setAckType(CommandAck.AckType.Individual)
        .setRequestId(11);
    MessageIdData first = a.addMessageId();
    messageId(first, 12, 34, -1, 1);
    first.addAckSet(1021);
    first.addAckSet(Long.MIN_VALUE);
    first.addAckSet(-1);
    first.setBatchSize(10);
    messageId(a.addMessageId(), -1, -1, -1, -1);
    a.addProperty().setKey("checkpoint").setValue(5);
    simple("ack", ack);

    BaseCommand cumulative = base(BaseCommand.Type.ACK);
    CommandAck c = cumulative.setAck().setConsumerId(2).setAckType(CommandAck.AckType.Cumulative)
        .setValidationError(CommandAck.ValidationError.DecompressionError);
    messageId(c.addMessageId(), 1L << 40, 123456789012L, 3, -1);
    simple("ack_cumulative", cumulative);

    BaseCommand ackResponse = base(BaseCommand.Type.ACK_RESPONSE);
    ackResponse.setAckResponse().setConsumerId(2).setRequestId(11);
    simple("ack_response", ackResponse);

    BaseCommand redeliver = base(BaseCommand.Type.REDELIVER_UNACKNOWLEDGED_MESSAGES);
    messageId(redeliver.setRedeliverUnacknowledgedMessages().setConsumerId(2).addMessageId(), 12,
        35, -1, -1);
    simple("redeliver", redeliver);

    BaseCommand redeliverAll = base(BaseCommand.Type.REDELIVER_UNACKNOWLEDGED_MESSAGES);
    redeliverAll.setRedeliverUnacknowledgedMessages().setConsumerId(2).setConsumerEpoch(3);
    simple("redeliver_all", redeliverAll);

    BaseCommand unsubscribe = base(BaseCommand.Type.UNSUBSCRIBE);
    unsubscribe.setUnsubscribe().setConsumerId(2).setRequestId(12).setForce(true);
    simple("unsubscribe", unsubscribe);

    BaseCommand closeConsumer = base(BaseCommand.Type.CLOSE_CONSUMER);
    closeConsumer.setCloseConsumer().setConsumerId(2).setRequestId(10);
    simple("close_consumer", closeConsumer);

    BaseCommand seek = base(BaseCommand.Type.SEEK);
    seek.setSeek().setConsumerId(2).setRequestId(13).setMessagePublishTime(1732400000000L);
    simple("seek_time", seek);

    BaseCommand seekId = base(BaseCommand.Type.SEEK);
    seekId.setSeek().setConsumerId(2).setRequestId(14);
    messageId(seekId.getSeek().setMessageId(), -1, -1, -1, -1);
    simple("seek_earliest", seekId);

    BaseCommand lastId = base(BaseCommand.Type.GET_LAST_MESSAGE_ID);
    lastId.setGetLastMessageId().setConsumerId(2).setRequestId(17);
    simple("get_last_message_id", lastId);

    BaseCommand lastIdResponse = base(BaseCommand.Type.GET_LAST_MESSAGE_ID_RESPONSE);
    CommandGetLastMessageIdResponse lr = lastIdResponse.setGetLastMessageIdResponse()
        .setRequestId(17);
    messageId(lr.setLastMessageId(), 12, 99, -1, -1);
    messageId(lr.setConsumerMarkDeletePosition(), 12, 50, -1, -1);
    simple("get_last_message_id_response", lastIdResponse);

    BaseCommand active = base(BaseCommand.Type.ACTIVE_CONSUMER_CHANGE);
    active.setActiveConsumerChange().setConsumerId(2).setIsActive(true);
    simple("active_consumer_change", active);

    BaseCommand end = base(BaseCommand.Type.REACHED_END_OF_TOPIC);
    end.setReachedEndOfTopic().setConsumerId(2);
    simple("reached_end_of_topic", end);

    BaseCommand stats = base(BaseCommand.Type.CONSUMER_STATS);
    stats.setConsumerStats().setRequestId(18).setConsumerId(2);
    simple("consumer_stats", stats);

    BaseCommand statsResponse = base(BaseCommand.Type.CONSUMER_STATS_RESPONSE);
    statsResponse.setConsumerStatsResponse().setRequestId(18).setMsgRateOut(12.5)
        .setMsgThroughputOut(1024.25).setConsumerName("c-1").setAvailablePermits(900)
        .setUnackedMessages(3).setBlockedConsumerOnUnackedMsgs(false).setType("Shared")
        .setMsgBacklog(7);
    simple("consumer_stats_response", statsResponse);

    // --- a batch payload: three messages packed as the Java producer packs them
    ByteBuf batch = Unpooled.buffer();
    SingleMessageMetadata s1 = new SingleMessageMetadata().setPartitionKey("user-1")
        .setEventTime(1732399999000L).setSequenceId(10);
    s1.addProperty().setKey("n").setValue("1");
    Commands.serializeSingleMessageInBatchWithPayload(s1, Unpooled.wrappedBuffer(utf8("one")),
        batch);
    SingleMessageMetadata s2 = new SingleMessageMetadata().setNullValue(true).setSequenceId(11);
    Commands.serializeSingleMessageInBatchWithPayload(s2, Unpooled.wrappedBuffer(new byte[0]),
        batch);
    SingleMessageMetadata s3 = new SingleMessageMetadata().setOrderingKey(utf8("ok"))
        .setCompactedOut(false).setSequenceId(12);
    Commands.serializeSingleMessageInBatchWithPayload(s3,
        Unpooled.wrappedBuffer(utf8("three ✓")), batch);
    out.put("batch", ByteBufUtil.hexDump(batch));

    StringBuilder json = new StringBuilder("{\n");
    int i = 0;
    for (Map.Entry<String, String> e : out.entrySet()) {
      json.append("  \"").append(e.getKey()).append("\": \"").append(e.getValue()).append('"');
      json.append(++i < out.size() ? ",\n" : "\n");
    }
    System.out.print(json.append("}\n"));
  }
}
