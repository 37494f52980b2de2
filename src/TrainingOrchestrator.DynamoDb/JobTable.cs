using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace TrainingOrchestrator.DynamoDb;

/// <summary>
/// The jobs table: one item per job (key: the job name), one per claimed request id ("request#id", naming its job in
/// <see cref="ClaimedJob"/>), one per rejected request ("rejected#id"). A job's item holds its record as plain
/// attributes named as the record's JSON (status, secondaryStatus, transitions, failureReason, finalMetrics,
/// modelArtifacts, times as sortable UTC text...), so what the console or <c>aws dynamodb get-item</c> shows is the
/// record. template.yaml declares the same keys and indexes; a test holds them equal.
/// </summary>
internal static class JobTable
{
    public const string Key = "pk";
    public const string Version = "v";
    /// <summary>The request and the planned SageMaker request, as JSON text; gzip-compressed (binary) only when the item would not fit otherwise.</summary>
    public const string Request = "request";
    public const string Plan = "plan";
    public const string RequestCompressed = "requestGz";
    public const string PlanCompressed = "planGz";
    /// <summary>A digest of <see cref="Transitions"/>: lets one conditional write check which transitions the item holds.</summary>
    public const string TransitionsDigest = "transitionsDigest";
    /// <summary>
    /// The sparse index's partition key: "open" while a job is unfinished, "owed" while a finished job's outbox is
    /// not empty, absent after that.
    /// </summary>
    public const string Open = "open";
    public const string OpenValue = "open";
    public const string OwedValue = "owed";
    public const string QuietSince = "quietSince";
    public const string Parent = "parent";
    public const string Month = "month";
    public const string CreatedAt = "createdAt";
    public const string ExpiresAt = "expiresAt";
    public const string ClaimedJob = "jobName";
    public const string PayloadHash = "payloadHash";

    // The record's attributes an update names (the rest are written whole by puts).
    public const string Status = "status";
    public const string SecondaryStatus = "secondaryStatus";
    public const string Transitions = "transitions";
    public const string StopCause = "stopCause";
    public const string FailureReason = "failureReason";
    public const string Arn = "arn";
    public const string ModelArtifacts = "modelArtifacts";
    public const string FinalMetrics = "finalMetrics";
    public const string BillableSeconds = "billableSeconds";
    public const string CreationTime = "creationTime";
    public const string StartTime = "startTime";
    public const string EndTime = "endTime";
    public const string LastModifiedTime = "lastModifiedTime";
    public const string BestTrial = "bestTrial";
    public const string Owed = "owed";
    public const string UpdatedAt = "updatedAt";

    /// <summary>A Queued record's queue (its team, "-" for none) and place in it (<see cref="Core.Jobs.JobRecord.QueueOrder"/>): the queued index's keys, only while Queued.</summary>
    public const string WaitQueue = "waitQueue";
    public const string WaitOrder = "waitOrder";
    public const string Charges = "charges";
    /// <summary>Ledger items ("ledger#team:vision"): one number attribute per counter, and when a transaction last changed one.</summary>
    public const string LedgerPrefix = "ledger#";
    public const string LedgerChangedAt = "changedAt";

    public const string UnfinishedIndex = "unfinished";
    public const string QueuedIndex = "queued";
    public const string TrialsIndex = "trials";
    public const string RecentIndex = "recent";

    /// <summary>
    /// The record's state as the indexes carry it: everything but the request and plan (and the count of transitions
    /// not kept, which a listing does not show: a deployed index's projection cannot change without replacing it).
    /// </summary>
    public static readonly IReadOnlyList<string> StateAttributes =
    [
        Version, "kind", "requestId", PayloadHash, Status, SecondaryStatus, Transitions, StopCause, FailureReason, "errors", Arn, ModelArtifacts,
        FinalMetrics, BillableSeconds, CreationTime, StartTime, EndTime, LastModifiedTime, BestTrial, "grewFrom", "followUp", Owed, UpdatedAt,
        ExpiresAt, Parent, CreatedAt,
    ];

    /// <summary>DynamoDB's item size limit.</summary>
    public const int MaxItemBytes = 400 * 1024;

    /// <summary>
    /// What a claim leaves free for the job's life: its status transitions, and the result (metrics, failure reason up
    /// to 1,024 characters, artifacts, best trial). A claim larger than <see cref="MaxItemBytes"/> less this is
    /// refused, so a job that was launched can always be recorded to its end.
    /// </summary>
    public const int StateBudgetBytes = 100 * 1024;

    public const int MaxClaimBytes = MaxItemBytes - StateBudgetBytes;

    public static CreateTableRequest Definition(string tableName) => new()
    {
        TableName = tableName,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions =
        [
            new AttributeDefinition(Key, ScalarAttributeType.S),
            new AttributeDefinition(Open, ScalarAttributeType.S),
            new AttributeDefinition(QuietSince, ScalarAttributeType.S),
            new AttributeDefinition(Parent, ScalarAttributeType.S),
            new AttributeDefinition(Month, ScalarAttributeType.S),
            new AttributeDefinition(CreatedAt, ScalarAttributeType.S),
            new AttributeDefinition(WaitQueue, ScalarAttributeType.S),
            new AttributeDefinition(WaitOrder, ScalarAttributeType.S),
        ],
        KeySchema = [new KeySchemaElement(Key, KeyType.HASH)],
        GlobalSecondaryIndexes =
        [
            Index(UnfinishedIndex, Open, QuietSince),
            Index(TrialsIndex, Parent, Key),
            Index(RecentIndex, Month, CreatedAt),
            // The whole record: a dispatcher admits and launches a queue's head from the listing alone.
            new GlobalSecondaryIndex
            {
                IndexName = QueuedIndex,
                KeySchema = [new KeySchemaElement(WaitQueue, KeyType.HASH), new KeySchemaElement(WaitOrder, KeyType.RANGE)],
                Projection = new Projection { ProjectionType = ProjectionType.ALL },
            },
        ],
    };

    /// <summary>An index's projection: the state attributes that are not its own keys (DynamoDB projects those anyway).</summary>
    public static List<string> ProjectedBy(string hash, string range) => [.. StateAttributes.Where(a => a != hash && a != range)];

    private static GlobalSecondaryIndex Index(string name, string hash, string range) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(hash, KeyType.HASH), new KeySchemaElement(range, KeyType.RANGE)],
        Projection = new Projection { ProjectionType = ProjectionType.INCLUDE, NonKeyAttributes = ProjectedBy(hash, range) },
    };
}
