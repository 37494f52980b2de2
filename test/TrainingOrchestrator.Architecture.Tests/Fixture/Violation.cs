// A layering violation the checker must catch: a low layer (Jobs) reaching a higher one (Orchestration) by a name
// brought in with a global using and used only inside a method body, which a source-text check would miss.
global using HigherLayer = TrainingOrchestrator.Architecture.Tests.Fixture.Core.Orchestration.HighLayer;

namespace TrainingOrchestrator.Architecture.Tests.Fixture.Core.Orchestration
{
    public static class HighLayer
    {
        public static int Answer() => 42;
    }
}

namespace TrainingOrchestrator.Architecture.Tests.Fixture.Core.Jobs
{
    public static class LowLayer
    {
        public static int Uses() => HigherLayer.Answer();
    }
}
