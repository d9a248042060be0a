// Writes golden frames of the transaction commands (and of SEND / ACK inside a transaction),
// encoded by the Java client's own protocol classes (pulsar-common 4.0.8), so that edgepipe's
// TypeScript codec is checked against bytes it did not produce itself.
//
// Run with: lib/pulsar/wire/testdata/generate_golden.sh
// Every case here has a twin object literal in lib/pulsar/wire/transaction_golden_test.ts.

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pulsar.common.api.proto.*;
import org.apache.pulsar.common.protocol.Commands;

public class GoldenTxnFrames {
  static final String TOPIC = "persistent://public/default/payments";
  static final Map<String, String> out = new LinkedHashMap<>();

  static void simple(String name, BaseCommand cmd) {
    ByteBuf buf = Commands.serializeWithSize(cmd);
    out.put(name, ByteBufUtil.hexDump(buf));
  }

  static BaseCommand base(BaseCommand.Type type) {
    return new BaseCommand().setType(type);
  }

  public static void main(String[] args) {
    BaseCommand tcConnect = base(BaseCommand.Type.TC_CLIENT_CONNECT_REQUEST);
    tcConnect.setTcClientConnectRequest().setRequestId(1).setTcId(3);
    simple("tc_client_connect_request", tcConnect);

    BaseCommand tcConnected = base(BaseCommand.Type.TC_CLIENT_CONNECT_RESPONSE);
    tcConnected.setTcClientConnectResponse().setRequestId(1);
    simple("tc_client_connect_response", tcConnected);

    BaseCommand tcRefused = base(BaseCommand.Type.TC_CLIENT_CONNECT_RESPONSE);
    tcRefused.setTcClientConnectResponse().setRequestId(2)
        .setError(ServerError.TransactionCoordinatorNotFound).setMessage("not yet");
    simple("tc_client_connect_refused", tcRefused);

    BaseCommand newTxn = base(BaseCommand.Type.NEW_TXN);
    newTxn.setNewTxn().setRequestId(4).setTxnTtlSeconds(60000).setTcId(3);
    simple("new_txn", newTxn);

    BaseCommand newTxnResponse = base(BaseCommand.Type.NEW_TXN_RESPONSE);
    newTxnResponse.setNewTxnResponse().setRequestId(4).setTxnidLeastBits(1234567890123L)
        .setTxnidMostBits(3);
    simple("new_txn_response", newTxnResponse);

    BaseCommand addPartition = base(BaseCommand.Type.ADD_PARTITION_TO_TXN);
    CommandAddPartitionToTxn ap = addPartition.setAddPartitionToTxn().setRequestId(5)
        .setTxnidLeastBits(17).setTxnidMostBits(3);
    ap.addPartition(TOPIC + "-partition-0");
    ap.addPartition(TOPIC + "-partition-1");
    simple("add_partition_to_txn", addPartition);

    BaseCommand addPartitionResponse = base(BaseCommand.Type.ADD_PARTITION_TO_TXN_RESPONSE);
    addPartitionResponse.setAddPartitionToTxnResponse().setRequestId(5).setTxnidLeastBits(17)
        .setTxnidMostBits(3).setError(ServerError.TransactionNotFound)
        .setMessage("txn (3,17) not found");
    simple("add_partition_to_txn_response", addPartitionResponse);

    BaseCommand addSubscription = base(BaseCommand.Type.ADD_SUBSCRIPTION_TO_TXN);
    CommandAddSubscriptionToTxn as = addSubscription.setAddSubscriptionToTxn().setRequestId(6)
        .setTxnidLeastBits(17).setTxnidMostBits(3);
    as.addSubscription().setTopic(TOPIC).setSubscription("billing");
    simple("add_subscription_to_txn", addSubscription);

    BaseCommand addSubscriptionResponse = base(BaseCommand.Type.ADD_SUBSCRIPTION_TO_TXN_RESPONSE);
    addSubscriptionResponse.setAddSubscriptionToTxnResponse().setRequestId(6)
        .setTxnidLeastBits(17).setTxnidMostBits(3);
    simple("add_subscription_to_txn_response", addSubscriptionResponse);

    BaseCommand commit = base(BaseCommand.Type.END_TXN);
    commit.setEndTxn().setRequestId(7).setTxnidLeastBits(17).setTxnidMostBits(3)
        .setTxnAction(TxnAction.COMMIT);
    simple("end_txn_commit", commit);

    BaseCommand abort = base(BaseCommand.Type.END_TXN);
    abort.setEndTxn().setRequestId(8).setTxnidLeastBits(17).setTxnidMostBits(3)
        .setTxnAction(TxnAction.ABORT);
    simple("end_txn_abort", abort);

    BaseCommand endResponse = base(BaseCommand.Type.END_TXN_RESPONSE);
    endResponse.setEndTxnResponse().setRequestId(8).setTxnidLeastBits(17).setTxnidMostBits(3)
        .setError(ServerError.InvalidTxnStatus).setMessage("Expect Txn 3:17 to be OPEN");
    simple("end_txn_response", endResponse);

    BaseCommand send = base(BaseCommand.Type.SEND);
    send.setSend().setProducerId(7).setSequenceId(9).setNumMessages(2).setTxnidLeastBits(17)
        .setTxnidMostBits(3);
    simple("send_in_txn", send);

    BaseCommand ack = base(BaseCommand.Type.ACK);
    CommandAck a = ack.setAck().setConsumerId(2).setAckType(CommandAck.AckType.Individual)
        .setTxnidLeastBits(17).setTxnidMostBits(3).setRequestId(12);
    a.addMessageId().setLedgerId(12).setEntryId(34).setPartition(-1).setBatchIndex(-1);
    simple("ack_in_txn", ack);

    // Many acks of one transaction in one command (the client groups them); one answer for all.
    BaseCommand ackMany = base(BaseCommand.Type.ACK);
    CommandAck m = ackMany.setAck().setConsumerId(2).setAckType(CommandAck.AckType.Individual)
        .setTxnidLeastBits(17).setTxnidMostBits(3).setRequestId(13);
    m.addMessageId().setLedgerId(12).setEntryId(34).setPartition(2).setBatchIndex(-1);
    m.addMessageId().setLedgerId(12).setEntryId(35).setPartition(2).setBatchIndex(-1);
    m.addMessageId().setLedgerId(13).setEntryId(0).setPartition(2).setBatchIndex(-1);
    simple("ack_many_in_txn", ackMany);

    BaseCommand ackResponse = base(BaseCommand.Type.ACK_RESPONSE);
    ackResponse.setAckResponse().setConsumerId(2).setTxnidLeastBits(17).setTxnidMostBits(3)
        .setError(ServerError.TransactionConflict).setMessage("conflict").setRequestId(12);
    simple("ack_response_in_txn", ackResponse);

    StringBuilder json = new StringBuilder("{\n");
    int i = 0;
    for (Map.Entry<String, String> e : out.entrySet()) {
      json.append("  \"").append(e.getKey()).append("\": \"").append(e.getValue()).append('"');
      json.append(++i < out.size() ? ",\n" : "\n");
    }
    System.out.print(json.append("}\n"));
  }
}
