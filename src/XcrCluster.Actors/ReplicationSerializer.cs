using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Notify;
using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>
/// JSON for everything the ReplicatedVm entities and the control plane persist or send (and run progress, sent only), with manifests that
/// are names we own (never CLR type names), so renaming a class cannot orphan the journal. A new message needs a new manifest here
/// and a round-trip test.
/// </summary>
public sealed class ReplicationSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4242;

    private static readonly Dictionary<Type, string> Manifests = new()
    {
        [typeof(ReplicateVm)] = "replicate-vm",
        [typeof(GetVmStatus)] = "get-vm-status",
        [typeof(RunAccepted)] = "run-accepted",
        [typeof(RunRejected)] = "run-rejected",
        [typeof(RunStarted)] = "run-started",
        [typeof(RunQueued)] = "run-queued",
        [typeof(RunFinished)] = "run-finished",
        [typeof(RunInterrupted)] = "run-interrupted",
        [typeof(ReleaseRun)] = "release-run",
        [typeof(WatchRun)] = "watch-run",
        [typeof(RunTurn)] = "run-turn",
        [typeof(RunReleased)] = "run-released",
        [typeof(HeldRunDropped)] = "held-run-dropped",
        [typeof(ForgetReplicas)] = "forget-replicas",
        [typeof(ReplicasForgotten)] = "replicas-forgotten",
        [typeof(ReplicasForgottenReply)] = "replicas-forgotten-reply",
        [typeof(ChainsReconciled)] = "chains-reconciled",
        [typeof(TargetCommitted)] = "target-committed",
        [typeof(ChainAdvanced)] = "chain-advanced",
        [typeof(RestorePointsPruned)] = "restore-points-pruned",
        [typeof(ReplicatedVmState)] = "vm-state",
        [typeof(RegisterPool)] = "register-pool",
        [typeof(DefineJob)] = "define-job",
        [typeof(GetPools)] = "get-pools",
        [typeof(GetJob)] = "get-job",
        [typeof(Done)] = "done",
        [typeof(Refused)] = "refused",
        [typeof(PoolList)] = "pool-list",
        [typeof(JobReply)] = "job-reply",
        [typeof(PoolRegistered)] = "pool-registered",
        [typeof(JobDefined)] = "job-defined",
        [typeof(ControlState)] = "control-state",
        [typeof(GetJobs)] = "get-jobs",
        [typeof(JobList)] = "job-list",
        [typeof(ScheduleFired)] = "schedule-fired",
        [typeof(EnableJob)] = "enable-job",
        [typeof(JobEnabled)] = "job-enabled",
        [typeof(ChangeJob)] = "change-job",
        [typeof(DeleteJob)] = "delete-job",
        [typeof(AddSchedule)] = "add-schedule",
        [typeof(RemoveSchedule)] = "remove-schedule",
        [typeof(EnableSchedule)] = "enable-schedule",
        [typeof(ChangeSchedule)] = "change-schedule",
        [typeof(RecordRun)] = "record-run",
        [typeof(ForgetVm)] = "forget-vm",
        [typeof(GetKnown)] = "get-known",
        [typeof(Known)] = "known",
        [typeof(NotFound)] = "not-found",
        [typeof(Conflict)] = "conflict",
        [typeof(JobDeleted)] = "job-deleted",
        [typeof(ScheduleAdded)] = "schedule-added",
        [typeof(ScheduleRemoved)] = "schedule-removed",
        [typeof(ScheduleEnabled)] = "schedule-enabled",
        [typeof(RunRecorded)] = "run-recorded",
        [typeof(VmForgotten)] = "vm-forgotten",
        [typeof(AcquireSlots)] = "acquire-slots",
        [typeof(SlotsGranted)] = "slots-granted",
        [typeof(SlotsRefused)] = "slots-refused",
        [typeof(ReleaseSlots)] = "release-slots",
        [typeof(GetPoolLoad)] = "get-pool-load",
        [typeof(PoolLoad)] = "pool-load",
        [typeof(GetInventory)] = "get-inventory",
        [typeof(PoolInventory)] = "pool-inventory",
        [typeof(InventoryFailed)] = "inventory-failed",
        [typeof(GetSrReplicas)] = "get-sr-replicas",
        [typeof(SrReplicas)] = "sr-replicas",
        [typeof(SrReplicasFailed)] = "sr-replicas-failed",
        [typeof(PurgeOnPool)] = "purge-on-pool",
        [typeof(PoolPurged)] = "pool-purged",
        [typeof(PurgeFailed)] = "purge-failed",
        [typeof(OpenTarget)] = "open-target",
        [typeof(TargetOpened)] = "target-opened",
        [typeof(RemoveTargetLeftovers)] = "remove-target-leftovers",
        [typeof(FindTargetBases)] = "find-target-bases",
        [typeof(FindTargetBasesByContent)] = "find-target-bases-by-content",
        [typeof(PrepareTargetDisk)] = "prepare-target-disk",
        [typeof(ExpectTargetImport)] = "expect-target-import",
        [typeof(TargetImportTicket)] = "target-import-ticket",
        [typeof(CommitTarget)] = "commit-target",
        [typeof(RollBackTarget)] = "roll-back-target",
        [typeof(PruneTarget)] = "prune-target",
        [typeof(HealthCheckTarget)] = "health-check-target",
        [typeof(CloseTarget)] = "close-target",
        [typeof(LeftoversRemoved)] = "leftovers-removed",
        [typeof(BasesFound)] = "bases-found",
        [typeof(DiskPrepared)] = "disk-prepared",
        [typeof(ReplicaCommitted)] = "replica-committed",
        [typeof(TargetRolledBack)] = "target-rolled-back",
        [typeof(TargetPruned)] = "target-pruned",
        [typeof(HealthChecked)] = "health-checked",
        [typeof(TargetFailed)] = "target-failed",
        [typeof(SnapshotTaken)] = "snapshot-taken",
        [typeof(DiskTransferred)] = "disk-transferred",
        [typeof(CheckPoolLogin)] = "check-pool-login",
        [typeof(PoolLoginChecked)] = "pool-login-checked",
        [typeof(RunSource)] = "run-source",
        [typeof(SourceStarted)] = "source-started",
        [typeof(SourceFinished)] = "source-finished",
        [typeof(CancelSource)] = "cancel-source",
        [typeof(RunProgress)] = "run-progress",
        [typeof(RunEnded)] = "run-ended",
        [typeof(RecordRecovery)] = "record-recovery",
        [typeof(GetRecovery)] = "get-recovery",
        [typeof(RecoveryReply)] = "recovery-reply",
        [typeof(RecoveryRecorded)] = "recovery-recorded",
        [typeof(RunRecoveryStep)] = "run-recovery-step",
        [typeof(RecoveryStepDone)] = "recovery-step-done",
        [typeof(ReadFailbackReplica)] = "read-failback-replica",
        [typeof(FailbackReplicaRead)] = "failback-replica-read",
        [typeof(SnapshotFailbackReplica)] = "snapshot-failback-replica",
        [typeof(FailbackReplicaSnapshotted)] = "failback-replica-snapshotted",
        [typeof(SendFailbackDelta)] = "send-failback-delta",
        [typeof(FailbackDeltaSent)] = "failback-delta-sent",
        [typeof(DropFailbackSnapshot)] = "drop-failback-snapshot",
        [typeof(FailbackSnapshotDropped)] = "failback-snapshot-dropped",
        [typeof(FailbackReplicaFailed)] = "failback-replica-failed",
        [typeof(ControlRequest)] = "control-request",
        [typeof(ControlApplied)] = "control-applied",
        [typeof(ControlBook)] = "control-book",
        [typeof(SchedulerState)] = "scheduler-state",
        [typeof(GetNodeInfo)] = "get-node-info",
        [typeof(NodeInfo)] = "node-info",
        [typeof(RunEndedNotice)] = "run-ended-notice",
        [typeof(RpoViolated)] = "rpo-violated",
        [typeof(RpoRecovered)] = "rpo-recovered",
        [typeof(NodeDown)] = "node-down",
        [typeof(NodeUp)] = "node-up",
        [typeof(AddNotifyTarget)] = "add-notify-target",
        [typeof(RemoveNotifyTarget)] = "remove-notify-target",
        [typeof(GetNotifyTargets)] = "get-notify-targets",
        [typeof(NotifyTargetList)] = "notify-target-list",
        [typeof(NotifyTargetAdded)] = "notify-target-added",
        [typeof(NotifyTargetRemoved)] = "notify-target-removed",
        [typeof(TestNotice)] = "test-notice",
        [typeof(TestNotifyTarget)] = "test-notify-target",
        [typeof(TestDelivered)] = "test-delivered",
        [typeof(GetDeliveryLog)] = "get-delivery-log",
        [typeof(DeliveryLog)] = "delivery-log",
        [typeof(NotifyLedgerStarted)] = "notify-ledger-started",
        [typeof(DeliveryLogged)] = "delivery-logged",
        [typeof(RunReported)] = "run-reported",
        [typeof(GetNotifyLedger)] = "get-notify-ledger",
        [typeof(NotifyLedgerState)] = "notify-ledger-state",
    };

    private static readonly Dictionary<string, Type> Types = Manifests.ToDictionary(p => p.Value, p => p.Key);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new PlainObjectConverter(), new ControlMessageConverter() },
    };

    public override int Identifier => SerializerId;

    public static IReadOnlyCollection<Type> BoundTypes =>
    [
        typeof(IReplicatedVmMessage), typeof(ReplicatedVmState), typeof(IControlMessage), typeof(ControlState), typeof(ControlBook),
        typeof(SchedulerState), typeof(IPoolAgentMessage), typeof(IRunProgressMessage), typeof(INodeInfoMessage),
        typeof(INotice), typeof(INotifierMessage),
    ];

    public override string Manifest(object o) => Manifests.TryGetValue(o.GetType(), out var m) ? m
        : throw new ArgumentException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
        => Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"empty {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}");

    /// <summary>A control message inside another (a request's command, an applied request's event and reply): its
    /// manifest and its JSON, whichever family the property is declared with.</summary>
    private sealed class ControlMessageConverter : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert)
            => typeToConvert.IsInterface && typeof(IControlMessage).IsAssignableFrom(typeToConvert);

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
            => (JsonConverter)Activator.CreateInstance(typeof(Family<>).MakeGenericType(typeToConvert))!;

        private sealed class Family<T> : JsonConverter<T>
            where T : class, IControlMessage
        {
            public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            {
                var element = JsonElement.ParseValue(ref reader);
                var manifest = element.GetProperty("manifest").GetString() ?? "";
                return Types.TryGetValue(manifest, out var type) && typeof(T).IsAssignableFrom(type)
                    ? (T)(element.GetProperty("value").Deserialize(type, options) ?? throw new SerializationException($"empty {manifest}"))
                    : throw new SerializationException($"unknown {typeof(T).Name} manifest {manifest}");
            }

            public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
            {
                writer.WriteStartObject();
                writer.WriteString("manifest", Manifests[value.GetType()]);
                writer.WritePropertyName("value");
                JsonSerializer.Serialize(writer, value, value.GetType(), options);
                writer.WriteEndObject();
            }
        }
    }
}
