# The whole path on a real Windows: renew into CurrentUser\My against the demo service,
# renew again with the current certificate, check that the key is a CNG key in the
# Microsoft Software Key Storage Provider, and present the certificate with two TLS
# clients this project did not write: curl.exe (Schannel) and Invoke-WebRequest (.NET).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$PSNativeCommandUseErrorActionPreference = $true  # a native command's exit code stops us

$KSP = 'Microsoft Software Key Storage Provider'

function Find-Certificate([string] $Sha256) {
    foreach ($cert in Get-ChildItem -Path Cert:\CurrentUser\My) {
        $hash = [Security.Cryptography.SHA256]::HashData($cert.RawData)
        if ([Convert]::ToHexString($hash).ToLowerInvariant() -eq $Sha256) { return $cert }
    }
    return $null
}

function Assert-CngKey([Security.Cryptography.X509Certificates.X509Certificate2] $Cert) {
    if (-not $Cert.HasPrivateKey) { throw "no private key for $($Cert.Thumbprint)" }
    $dump = (& certutil.exe -user -store My $Cert.Thumbprint) | Out-String
    if ($dump -notmatch [regex]::Escape("Provider = $KSP")) {
        Write-Host $dump
        throw "certutil does not show the key in the $KSP"
    }
    $rsa = [Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($Cert)
    if ($rsa -isnot [Security.Cryptography.RSACng]) { throw "not a CNG key: $($rsa.GetType())" }
    if ($rsa.Key.Provider.Provider -ne $KSP) { throw "key provider: $($rsa.Key.Provider.Provider)" }
    Write-Host "key of $($Cert.Thumbprint): $($rsa.Key.Provider.Provider), exportable policy $($rsa.Key.ExportPolicy)"
}

$work = Join-Path $env:RUNNER_TEMP 'ecmt-e2e'
New-Item -ItemType Directory -Force -Path $work | Out-Null
$announce = Join-Path $work 'demo.json'
$server = Start-Process -FilePath python -ArgumentList @('.github/windows/demo_server.py', $announce) -NoNewWindow -PassThru
try {
    $deadline = (Get-Date).AddSeconds(120)
    while (-not (Test-Path -LiteralPath $announce)) {
        if ($server.HasExited) { throw "the demo server stopped (exit code $($server.ExitCode))" }
        if ((Get-Date) -gt $deadline) { throw 'the demo server did not start in time' }
        Start-Sleep -Milliseconds 500
    }
    $demo = Get-Content -LiteralPath $announce -Raw | ConvertFrom-Json
    Write-Host "demo service at $($demo.url), EPOC $($demo.epoc)"
    $common = @('--store', 'windows:user', '--server', $demo.url, '--trust-anchor', $demo.trust_anchor)

    # 1. First certificate, with the PIN on standard input
    $first = ($demo.pin | & ecmt renew @common --epoc $demo.epoc --pin-stdin --accept-terms --json) | ConvertFrom-Json
    if ($first.status -ne 'ok') { throw "renew with the PIN: $($first | ConvertTo-Json -Depth 5)" }
    $old = Find-Certificate $first.certificate.fingerprint
    if ($null -eq $old) { throw 'the new certificate is not in CurrentUser\My' }
    Assert-CngKey $old

    # 2. Renew with the current certificate (its key exported from the store for TLS)
    $second = (& ecmt renew @common --with-current-cert --json) | ConvertFrom-Json
    if ($second.status -ne 'ok') { throw "renew with the certificate: $($second | ConvertTo-Json -Depth 5)" }
    if ($second.certificate.fingerprint -eq $first.certificate.fingerprint) { throw 'the same certificate came back' }
    if ($second.removed -notcontains $first.certificate.fingerprint) { throw 'the old certificate was not removed' }
    if ($null -ne (Find-Certificate $first.certificate.fingerprint)) { throw 'the old certificate is still in My' }
    $cert = Find-Certificate $second.certificate.fingerprint
    if ($null -eq $cert) { throw 'the renewed certificate is not in CurrentUser\My' }
    Assert-CngKey $cert

    & ecmt status --store windows:user --json

    # 3. curl.exe from Windows (Schannel) presents it from the store by thumbprint
    $account = "$($demo.url)/ccms/v1/account"
    $curl = Join-Path $env:SystemRoot 'System32\curl.exe'
    $body = & $curl --silent --show-error --fail --ssl-no-revoke --cacert $demo.trust_anchor `
        --cert "CurrentUser\MY\$($cert.Thumbprint)" $account
    $seen = ($body | Out-String) | ConvertFrom-Json
    if ($seen.epoc -ne $demo.epoc) { throw "curl.exe: the service saw EPOC $($seen.epoc)" }
    Write-Host "curl.exe (Schannel): the service saw EPOC $($seen.epoc)"

    # 4. Invoke-WebRequest (.NET SslStream over Schannel) with the certificate object
    $response = Invoke-WebRequest -Uri $account -Certificate $cert -SkipCertificateCheck -UseBasicParsing
    $seen = $response.Content | ConvertFrom-Json
    if ($seen.epoc -ne $demo.epoc) { throw "Invoke-WebRequest: the service saw EPOC $($seen.epoc)" }
    Write-Host "Invoke-WebRequest: the service saw EPOC $($seen.epoc)"

    # 5. Without a certificate the service asks for one: the checks above can fail
    $status = & $curl --silent --output NUL --write-out '%{http_code}' --ssl-no-revoke --cacert $demo.trust_anchor $account
    if ($status -notin @('401', '403')) { throw "without a certificate the service answered $status" }
}
finally {
    Stop-Process -Id $server.Id -Force -ErrorAction SilentlyContinue
}
