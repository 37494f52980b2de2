using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace TrainingOrchestrator.DynamoDb;

/// <summary>
/// The jobs table: one item per job (key: the job name), one per claimed request id ("request#id"), one per
/// rejected request ("rejected#id"). template.yaml declares the same keys and indexes; a test holds them equal.
/// </summary>
public static class JobTable
{
    public const string Key = "pk";
    public const string Version = "v";
    public const string Document = "doc";
    /// <summary>Observations appended since <see cref="Document"/> was written; the record is their fold over it.</summary>
    public const string Observations = "obs";
    public const string Request = "req";
    public const string Plan = "plan";
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

    public const string UnfinishedIndex = "unfinished";
    public const string TrialsIndex = "trials";
    public const string RecentIndex = "recent";

    /// <summary>DynamoDB's item size limit.</summary>
    public const int MaxItemBytes = 400 * 1024;

    /// <summary>
    /// What a claim leaves free for the job's life: the appended observations (each with the status transitions so
    /// far; folded into the document once they take half of this), and the result (metrics, failure reason up to
    /// 1,024 characters, artifacts, best trial). A claim larger than <see cref="MaxItemBytes"/> less this is refused,
    /// so a job that was launched can always be recorded to its end.
    /// </summary>
    public const int StateBudgetBytes = 100 * 1024;

    public const int MaxClaimBytes = MaxItemBytes - StateBudgetBytes;

    // The indexes carry the record's state (document and pending observations), not the request and plan.
    private static readonly Projection StateOnly = new() { ProjectionType = ProjectionType.INCLUDE, NonKeyAttributes = [Document, Observations, Version] };

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
        ],
        KeySchema = [new KeySchemaElement(Key, KeyType.HASH)],
        GlobalSecondaryIndexes =
        [
            Index(UnfinishedIndex, Open, QuietSince),
            Index(TrialsIndex, Parent, Key),
            Index(RecentIndex, Month, CreatedAt),
        ],
    };

    private static GlobalSecondaryIndex Index(string name, string hash, string range) => new()
    {
        IndexName = name,
        KeySchema = [new KeySchemaElement(hash, KeyType.HASH), new KeySchemaElement(range, KeyType.RANGE)],
        Projection = StateOnly,
    };
}
