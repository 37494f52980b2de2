# sam build runs these (BuildMethod: makefile): one portable, framework-dependent build of the functions
# serves all three (the dotnet10 runtime supplies .NET; the IL runs on arm64 as on x64).
build-SubmitFunction build-StateChangeFunction build-ReconcileFunction:
	dotnet publish src/TrainingOrchestrator.Functions/TrainingOrchestrator.Functions.csproj -c Release -o "$(ARTIFACTS_DIR)"
