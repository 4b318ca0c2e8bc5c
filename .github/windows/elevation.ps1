# R-1's question on a real Windows: does this process need elevation for the store?
# Elevated (the runner's administrator): no, for LocalMachine\My and CurrentUser\My.
# A limited local user: yes for LocalMachine\My (opening it for writing is refused),
# no for CurrentUser\My, and LocalMachine\My still opens read-only. Runs in Windows
# PowerShell 5.1, where New-LocalUser and Start-Process -Credential are built in.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$probe = (Resolve-Path -LiteralPath '.github/windows/needs_elevation.py').Path
$python = (Get-Command python).Source

$admin = (& $python $probe) | ConvertFrom-Json
Write-Host "administrator: $($admin | ConvertTo-Json -Compress)"
if (-not $admin.elevated) { throw 'the runner is expected to be elevated' }
if ($admin.machine_needs_elevation) { throw 'LocalMachine\My needs elevation although elevated' }
if ($admin.user_needs_elevation) { throw 'CurrentUser\My never needs elevation' }
if (-not $admin.machine_readable) { throw 'LocalMachine\My does not open read-only' }

$name = 'ecmt-limited'
$bytes = New-Object byte[] 24
[Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
$secure = ConvertTo-SecureString ([Convert]::ToBase64String($bytes) + 'a1!') -AsPlainText -Force
New-LocalUser -Name $name -Password $secure -PasswordNeverExpires | Out-Null
$credential = New-Object System.Management.Automation.PSCredential(".\$name", $secure)
& icacls.exe $env:GITHUB_WORKSPACE /grant "${name}:(OI)(CI)RX" /T /Q | Out-Null

$out = 'C:\Users\Public\ecmt-limited.json'
$err = 'C:\Users\Public\ecmt-limited.err'
$process = $null
try {
    $process = Start-Process -FilePath $python -ArgumentList "`"$probe`"" -Credential $credential `
        -WorkingDirectory 'C:\Users\Public' -LoadUserProfile -RedirectStandardOutput $out `
        -RedirectStandardError $err -Wait -PassThru
}
catch {
    Write-Host "::warning::no process as a limited user here ($($_.Exception.Message)): only the read-only open of LocalMachine\My was checked"
}
if ($null -ne $process) {
    if ($process.ExitCode -ne 0) {
        Get-Content -LiteralPath $err
        throw "the probe failed as a limited user (exit code $($process.ExitCode))"
    }
    $limited = Get-Content -LiteralPath $out -Raw | ConvertFrom-Json
    Write-Host "limited user: $($limited | ConvertTo-Json -Compress)"
    if ($limited.elevated) { throw 'the limited user is elevated' }
    if (-not $limited.machine_needs_elevation) { throw 'LocalMachine\My must need elevation for a limited user' }
    if ($limited.user_needs_elevation) { throw 'CurrentUser\My never needs elevation' }
    if (-not $limited.machine_readable) { throw 'LocalMachine\My must still open read-only' }
}
