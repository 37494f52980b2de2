using System.Collections;
using TrainingOrchestrator.Functions;

// Lambda's dotnet10 runtime starts this program (dotnet exec bootstrap.dll, or the Native AOT bootstrap itself); it serves invocations until Lambda freezes or ends the sandbox.
var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
// Not disposed: ProcessExit fires after the return below, and cancelling a disposed source would crash the exit.
var stop = new CancellationTokenSource();
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
return await CloudHost.ServeAsync(environment, stop.Token);
