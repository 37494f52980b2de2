namespace TrainingOrchestrator.Testing;

/// <summary>
/// The one clock of the tests: stopped at a time (<see cref="At"/>) or running with the system's, moved by an offset
/// (<see cref="Shifted"/>, a function running later); either way it moves on when told to.
/// </summary>
public sealed class TestClock : TimeProvider
{
    private readonly DateTimeOffset? stoppedAt;
    private TimeSpan offset;

    private TestClock(DateTimeOffset? stoppedAt, TimeSpan offset) => (this.stoppedAt, this.offset) = (stoppedAt, offset);

    public static TestClock At(DateTimeOffset time) => new(time, TimeSpan.Zero);

    public static TestClock Shifted(TimeSpan by) => new(null, by);

    public override DateTimeOffset GetUtcNow()
    {
        lock (this) return (stoppedAt ?? System.GetUtcNow()) + offset;
    }

    public void Advance(TimeSpan by)
    {
        lock (this) offset += by;
    }
}
