namespace TrainingOrchestrator.Core.Validation;

/// <summary>Hyperparameters that belong to the platform and the training toolkit, never to a user.</summary>
public static class ReservedHyperparameters
{
    public const string Program = "sagemaker_program";
    public const string SubmitDirectory = "sagemaker_submit_directory";
    public const string Region = "sagemaker_region";
    public const string ContainerLogLevel = "sagemaker_container_log_level";
    public const string MpiEnabled = "sagemaker_mpi_enabled";
    public const string MpiProcessesPerHost = "sagemaker_mpi_num_of_processes_per_host";
    public const string MpiCustomOptions = "sagemaker_mpi_custom_mpi_options";
    public const string TuningObjectiveMetric = "_tuning_objective_metric";

    /// <summary>Every `sagemaker_*` key and the tuning objective key (container contract, section 3).</summary>
    public static bool IsReserved(string key) =>
        key.StartsWith("sagemaker_", StringComparison.Ordinal) || key == TuningObjectiveMetric;
}
