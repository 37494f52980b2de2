using System.Collections;
using TrainingOrchestrator.Functions;

// Lambda's custom runtime starts this program; it serves invocations until Lambda freezes or ends the sandbox.
var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
using var stop = new CancellationTokenSource();
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
return await LambdaBootstrap.RunAsync(environment, () => OrchestratorHost.Shared, stop.Token);
