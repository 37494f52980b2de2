using System.Text.Json;
using TrainingOrchestrator.Core.Ports;

namespace TrainingOrchestrator.Aws.EventBridge;

/// <summary>Publishes "Training Job Finished" and "Tuning Job Finished" events to a bus, with the job's ARN as the event's resource.</summary>
public sealed class EventBridgePublisher(EventBridgeClient client, string eventBusName, string source) : IEventPublisher
{
    public Task PublishAsync(JobFinished finished, CancellationToken cancellationToken) =>
        client.PutEventsAsync(
            [new PutEventsEntry(source, finished.DetailType, JsonSerializer.Serialize(finished, JobFinishedJson.Default.JobFinished),
                eventBusName, finished.Arn is { } arn ? [arn] : null)],
            cancellationToken);
}
