namespace TrainingOrchestrator.Local;

/// <summary>
/// Checkpoints as SageMaker keeps them: the mapped folder's files copied into every host's checkpoint folder before the
/// job starts, and new or changed files copied back while it runs (every period) and once more at the end.
/// </summary>
/// <param name="InContainer">The checkpoint folder relative to /opt/ml (checkpoints by default).</param>
internal sealed class CheckpointSync(string local, string inContainer, IReadOnlyList<LocalHost> hosts, Action<string> notice)
{
    public string InContainer => inContainer;

    public void CopyIn()
    {
        foreach (var host in hosts)
            LocalChannels.CopyChanged(local, Path.Combine(host.Folder, inContainer));
    }

    /// <summary>Copies out every <paramref name="period"/> until disposed; disposing copies out once more.</summary>
    public IAsyncDisposable Every(TimeSpan period) => new Periodic(this, new Timer(_ => CopyOut(), null, period, period));

    public void CopyOut()
    {
        try
        {
            foreach (var host in hosts)
                LocalChannels.CopyChanged(Path.Combine(host.Folder, inContainer), local);
        }
        catch (IOException e)
        {
            notice($"copying checkpoints out to {local} failed, trying again later: {e.Message}");
        }
    }

    private sealed class Periodic(CheckpointSync sync, Timer timer) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await timer.DisposeAsync().ConfigureAwait(false);
            sync.CopyOut();
        }
    }
}
