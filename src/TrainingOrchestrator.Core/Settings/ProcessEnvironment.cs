using System.Collections;

namespace TrainingOrchestrator.Core.Settings;

public static class ProcessEnvironment
{
    /// <summary>The process's environment variables as a dictionary, which is what the settings readers take.</summary>
    public static IReadOnlyDictionary<string, string> Read()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        return environment;
    }
}
