namespace TrainingOrchestrator.Core.Ports;

/// <summary>Where follow-up requests go: the jobs queue in the cloud, the same run in local mode.</summary>
public interface IRequestQueue
{
    Task SendAsync(string requestBody, CancellationToken cancellationToken);
}
