using System.Text;
using TrainingOrchestrator.Core.Governance;

namespace TrainingOrchestrator.Testing;

/// <summary>Governance policies for tests: the repository's three-team sample (vision, nlp, research), and any other read strictly.</summary>
public static class Policies
{
    public const string ThreeTeamsFile = "samples/policy/three-teams.json";

    /// <summary>moto records every message as sent by this id (moto/sqs/models.py DEFAULT_SENDER_ID): the sample's research team.</summary>
    public const string ResearchSender = "AIDAIT2UOQQY3AUEKVGXU";
    public const string VisionSender = "AROAVISIONEXAMPLE0001:alice";
    public const string NlpSender = "AIDANLPEXAMPLEUSER001";
    public const string Stranger = "AIDASTRANGEREXAMPLE01";

    public static Policy ThreeTeams { get; } = Read(File.ReadAllText(Repo.Path(ThreeTeamsFile)));

    /// <summary>The capacity sample: research 2 jobs on 2 ml.m5 within $1 a month, vision weight 2, nlp priority up to 50, the account's 4 ml.m5.xlarge.</summary>
    public const string CapacityFile = "samples/policy/capacity.json";
    public static Policy Capacity { get; } = Read(File.ReadAllText(Repo.Path(CapacityFile)));

    public static Policy Read(string json)
    {
        var read = PolicyReader.Read(Encoding.UTF8.GetBytes(json));
        return read.Policy ?? throw new InvalidOperationException("not a valid policy: " + string.Join("; ", read.Errors));
    }
}
