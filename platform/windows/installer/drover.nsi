; Drover's Windows installer (NSIS 3, Debian's makensis). Built by the
; `installer` target (cmake/installer.cmake), or by hand:
;   makensis -DVERSION=0.1.0 -DDROVER_EXE=.../drover.exe -DDROVER_COM=.../drover.com \
;            -DOUT=.../drover-setup.exe [-DWINDIVERT_DIR=.../x64] platform/windows/installer/drover.nsi
; WINDIVERT_DIR is given only when it holds the official, hash-verified
; WinDivert.dll and WinDivert64.sys (the build checks them); without it the
; installer carries no WinDivert and says so in its details.
;
; Command line (besides NSIS's own /S and /D=DIR, which must come last):
;   drover-setup.exe /S [/AUTOSTART=0|1]   silent; autostart defaults to on for
;                                          a first install, to its current state on a reinstall
;   uninstall.exe /S                        silent uninstall: keeps the user's config
;                                          (%APPDATA%\Drover): there is nobody to ask
;
; Paths follow the engine's (docs/windows.md): its machine folder is the
; ProgramData *known folder* (SetShellVarContext all + $APPDATA, which NSIS
; takes from the shell, never from the PROGRAMDATA variable), the config is
; the user's roaming AppData.

Unicode true
Target amd64-unicode
; WinDivert needs an administrator, and Program Files, HKLM and the protected
; ProgramData folder do too.
RequestExecutionLevel admin
SetCompressor /SOLID lzma
ManifestDPIAware true

!ifndef VERSION
  !error "give -DVERSION=X.Y.Z"
!endif
!ifndef DROVER_EXE
  !error "give -DDROVER_EXE=PATH/drover.exe"
!endif
!ifndef DROVER_COM
  !error "give -DDROVER_COM=PATH/drover.com"
!endif
!ifndef OUT
  !define OUT "drover-setup.exe"
!endif
!ifndef SOURCE_DIR
  !define SOURCE_DIR "${__FILEDIR__}/../../.."
!endif

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include Sections.nsh
!include x64.nsh

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Drover"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
!define SERVICE_KEY "SYSTEM\CurrentControlSet\Services\WinDivert"
; A folder planted where the engine's goes is renamed to this (see MachineDir).
!define REFUSED_SUFFIX ".refused"

Name "Drover"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\Drover"
; A reinstall goes where the last one went.
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
BrandingText "Drover ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

; Explorer's Properties of drover-setup.exe. VIProductVersion wants four numbers.
!searchparse /noerrors "${VERSION}" "" V_MAJOR "." V_MINOR "." V_PATCH
!ifndef V_PATCH
  !error "VERSION must be X.Y.Z (got ${VERSION})"
!endif
VIProductVersion "${V_MAJOR}.${V_MINOR}.${V_PATCH}.0"
VIAddVersionKey /LANG=1033 "ProductName" "Drover"
VIAddVersionKey /LANG=1033 "CompanyName" "Drover"
VIAddVersionKey /LANG=1033 "FileDescription" "Drover setup"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "The Drover authors (MIT License)"

Var MachineDir   ; %ProgramData%\Drover, the engine's folder
Var UserSid      ; the installing user's SID text, "" when unknown
Var Autostart    ; "", 0 or 1 from /AUTOSTART=

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${SOURCE_DIR}/LICENSE"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; The engine needs elevation, which the installer has: started from here it
; asks no second time.
!define MUI_FINISHPAGE_RUN "$INSTDIR\drover.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "run"
!define MUI_FINISHPAGE_RUN_TEXT "Start Drover now"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; ---------------------------------------------------------------------------
; Helpers the installer and the uninstaller both use (NSIS wants un. copies).

!macro DROVER_SHARED un

; Asks a copy of Drover to stop and waits until its control pipe is gone
; (`status` exits 3: no running instance), so that its files can be replaced
; or deleted. drover.exe and drover.com are two copies to the engine (the
; instance id follows the executable's path), so each is asked.
Function ${un}StopDrover
  Exch $R0   ; the executable
  Push $R1
  Push $R2
  ${If} ${FileExists} "$R0"
    nsExec::ExecToLog '"$R0" stop'
    Pop $R1
    ${If} $R1 == 0
      ${For} $R2 1 50
        nsExec::Exec '"$R0" status'
        Pop $R1
        ${IfThen} $R1 == 3 ${|} ${Break} ${|}
        Sleep 200
      ${Next}
    ${EndIf}
  ${EndIf}
  Pop $R2
  Pop $R1
  Pop $R0
FunctionEnd

; The WinDivert driver is a kernel service named WinDivert, shared by every
; program that bundles WinDivert 2.x: the first WinDivertOpen creates it from
; its own WinDivert64.sys, later ones reuse it. This stops and deletes it
; only when its driver file is this install's (ImagePath inside $INSTDIR) and
; nothing holds it open (it stops). Another tool's WinDivert (zapret,
; GoodbyeDPI) is left alone, and so is ours while another program uses it:
; the WinDivert DLL marks the service for deletion when it starts it, so it
; goes at the next restart anyway.
Function ${un}RemoveOwnWinDivertService
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  Push $7
  ReadRegStr $0 HKLM "${SERVICE_KEY}" "ImagePath"
  ${If} $0 == ""
    DetailPrint "No WinDivert service is installed."
    Goto done
  ${EndIf}
  ; ImagePath may be quoted or in NT form (\??\C:\...).
  StrCpy $1 $0 1
  ${If} $1 == '"'
    StrCpy $0 $0 "" 1
  ${EndIf}
  StrCpy $1 $0 4
  ${If} $1 == "\??\"
    StrCpy $0 $0 "" 4
  ${EndIf}
  StrLen $2 "$INSTDIR\"
  StrCpy $1 $0 $2
  ; StrCmp (==) ignores case, as Windows paths do.
  ${If} $1 != "$INSTDIR\"
    DetailPrint "WinDivert service left alone: its driver is another program's ($0)."
    Goto done
  ${EndIf}
  System::Call 'advapi32::OpenSCManagerW(p 0, p 0, i 1) p .r3'   ; SC_MANAGER_CONNECT
  ${If} $3 == 0
    DetailPrint "WinDivert service left alone: cannot open the service manager."
    Goto done
  ${EndIf}
  ; SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE
  System::Call 'advapi32::OpenServiceW(p r3, w "WinDivert", i 0x10024) p .r4'
  ${If} $4 == 0
    DetailPrint "WinDivert service left alone: cannot open it."
    System::Call 'advapi32::CloseServiceHandle(p r3)'
    Goto done
  ${EndIf}
  System::Call '*(&i28) p .r5'   ; SERVICE_STATUS
  System::Call 'advapi32::ControlService(p r4, i 1, p r5) i .r6'   ; SERVICE_CONTROL_STOP
  StrCpy $7 0
  ${For} $2 1 25
    System::Call 'advapi32::QueryServiceStatus(p r4, p r5) i .r6'
    System::Call '*$5(i, i .r7)'   ; dwCurrentState
    ${IfThen} $7 = 1 ${|} ${Break} ${|}   ; SERVICE_STOPPED
    Sleep 200
  ${Next}
  ${If} $7 = 1
    System::Call 'advapi32::DeleteService(p r4) i .r6 ?e'
    Pop $2
    ; 1072: already marked for deletion (the WinDivert DLL does that).
    ${If} $6 <> 0
    ${OrIf} $2 = 1072
      DetailPrint "WinDivert service stopped and deleted."
    ${Else}
      DetailPrint "WinDivert service stopped; deleting it failed (error $2)."
    ${EndIf}
  ${Else}
    DetailPrint "WinDivert driver still in use by another program (state $7): left to go at the next restart."
  ${EndIf}
  System::Free $5
  System::Call 'advapi32::CloseServiceHandle(p r4)'
  System::Call 'advapi32::CloseServiceHandle(p r3)'
done:
  Pop $7
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; $UserSid: the SID of this process's user (elevated, it is still the user
; who started setup), as ensure_machine_dir takes it.
Function ${un}FindUserSid
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  StrCpy $UserSid ""
  System::Call 'kernel32::GetCurrentProcess() p .r1'
  System::Call 'advapi32::OpenProcessToken(p r1, i 8, *p .r2) i .r0'   ; TOKEN_QUERY
  ${If} $0 <> 0
    System::Call 'advapi32::GetTokenInformation(p r2, i 1, p 0, i 0, *i .r3)'   ; TokenUser: its size
    System::Alloc $3
    Pop $4
    System::Call 'advapi32::GetTokenInformation(p r2, i 1, p r4, i r3, *i .r3) i .r0'
    ${If} $0 <> 0
      System::Call '*$4(p .r1)'   ; TOKEN_USER.User.Sid
      System::Call 'advapi32::ConvertSidToStringSidW(p r1, *p .r3) i .r0'
      ${If} $0 <> 0
        System::Call 'kernel32::lstrcpynW(w .s, p r3, i ${NSIS_MAX_STRLEN})'
        Pop $UserSid
        System::Call 'kernel32::LocalFree(p r3)'
      ${EndIf}
    ${EndIf}
    System::Free $4
    System::Call 'kernel32::CloseHandle(p r2)'
  ${EndIf}
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; Whether a folder may be taken as the engine's own, the test
; ensure_machine_dir makes: pushes "missing", "ok", or why not ("a link",
; "not a folder", "owned by S-1-...") . Only elevated code can make a folder
; owned by Administrators or SYSTEM; any user may create folders in
; ProgramData. Wine gives every file the Unix user as owner, so there (as in
; the engine) that user counts too.
Function ${un}MachineDirTrust
  Exch $R0
  Push $R1
  Push $R2
  Push $R3
  Push $R4
  System::Call 'kernel32::GetFileAttributesW(w R0) i .R1'
  IntOp $R2 $R1 & 0x400   ; FILE_ATTRIBUTE_REPARSE_POINT
  IntOp $R3 $R1 & 0x10    ; FILE_ATTRIBUTE_DIRECTORY
  ${If} $R1 = -1
    StrCpy $R4 "missing"
  ${ElseIf} $R2 <> 0
    StrCpy $R4 "a junction or symbolic link"
  ${ElseIf} $R3 = 0
    StrCpy $R4 "not a folder"
  ${Else}
    StrCpy $R4 "of unknown owner"
    ; SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION
    System::Call 'advapi32::GetNamedSecurityInfoW(w R0, i 1, i 1, *p .R2, p 0, p 0, p 0, *p .R3) i .R1'
    ${If} $R1 = 0
      System::Call 'advapi32::IsWellKnownSid(p R2, i 26) i .R1'   ; WinBuiltinAdministratorsSid
      ${If} $R1 = 0
        System::Call 'advapi32::IsWellKnownSid(p R2, i 22) i .R1'   ; WinLocalSystemSid
      ${EndIf}
      ${If} $R1 <> 0
        StrCpy $R4 "ok"
      ${ElseIf} $R2 != 0
        System::Call 'advapi32::ConvertSidToStringSidW(p R2, *p .R1) i .R2'
        ${If} $R2 <> 0
          System::Call 'kernel32::lstrcpynW(w .R4, p R1, i ${NSIS_MAX_STRLEN})'
          System::Call 'kernel32::LocalFree(p R1)'
          System::Call 'kernel32::GetModuleHandleW(w "ntdll.dll") p .R1'
          System::Call 'kernel32::GetProcAddress(p R1, m "wine_get_version") p .R1'
          ${If} $R1 != 0
          ${AndIf} $R4 == $UserSid
            StrCpy $R4 "ok"
          ${Else}
            StrCpy $R4 "owned by $R4"
          ${EndIf}
        ${EndIf}
      ${EndIf}
      System::Call 'kernel32::LocalFree(p R3)'
    ${EndIf}
  ${EndIf}
  StrCpy $R0 $R4
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R1
  Exch $R0
FunctionEnd

!macroend
!insertmacro DROVER_SHARED ""
!insertmacro DROVER_SHARED "un."

; ---------------------------------------------------------------------------
; Install

; The engine's folder, created here as the engine creates it (platform/
; windows/dir_security.cpp, ensure_machine_dir): owned by Administrators,
; protected (nothing inherited from ProgramData, where every user may add
; files), SYSTEM and Administrators full control, the user read-only (the
; log), OICI so that what the engine makes inside gets the same list. Done
; with the same SDDL through the Win32 API rather than by icacls, whose
; account names and output are localised, or by running drover (no verb of
; it creates the folder without starting the engine).
; A folder already there is kept when only elevated code can have made it
; (an earlier install's, with its logs). A junction or symbolic link put
; there is removed (the link only: RemoveDirectoryW and DeleteFileW never
; touch a link's target); a folder or file any program could have planted is
; renamed aside, never deleted: a rename touches nothing inside it.
Function MachineDir
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  SetShellVarContext all
  StrCpy $MachineDir "$APPDATA\Drover"
  Push $MachineDir
  Call MachineDirTrust
  Pop $0
  ${If} $0 == "a junction or symbolic link"
    System::Call 'kernel32::GetFileAttributesW(w "$MachineDir") i .r1'
    IntOp $1 $1 & 0x10
    ${If} $1 <> 0
      System::Call 'kernel32::RemoveDirectoryW(w "$MachineDir") i .r3 ?e'
    ${Else}
      System::Call 'kernel32::DeleteFileW(w "$MachineDir") i .r3 ?e'
    ${EndIf}
    Pop $4
    ${If} $3 = 0
      DetailPrint "Warning: $MachineDir is $0 and cannot be removed (error $4): Drover will log to no file until it is."
      Goto done
    ${EndIf}
    DetailPrint "$MachineDir was $0, which Drover refuses: removed the link."
    StrCpy $0 "missing"
  ${ElseIf} $0 != "ok"
  ${AndIf} $0 != "missing"
    StrCpy $1 "$MachineDir${REFUSED_SUFFIX}"
    StrCpy $2 1
    ${DoWhile} ${FileExists} "$1"
      IntOp $2 $2 + 1
      StrCpy $1 "$MachineDir${REFUSED_SUFFIX}$2"
    ${Loop}
    ClearErrors
    Rename "$MachineDir" "$1"
    ${If} ${Errors}
      DetailPrint "Warning: $MachineDir is $0 and cannot be moved aside: Drover will log to no file until it is removed."
      Goto done
    ${EndIf}
    DetailPrint "$MachineDir was $0, which Drover refuses: moved to $1."
    StrCpy $0 "missing"
  ${EndIf}
  ${If} $0 == "missing"
    StrCpy $1 "O:BAD:P(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)"
    ${If} $UserSid != ""
    ${AndIf} $UserSid != "S-1-5-18"
    ${AndIf} $UserSid != "S-1-5-32-544"
      StrCpy $1 "$1(A;OICI;0x1200a9;;;$UserSid)"
    ${EndIf}
    System::Call 'advapi32::ConvertStringSecurityDescriptorToSecurityDescriptorW(w r1, i 1, *p .r2, p 0) i .r3 ?e'
    Pop $4
    ${If} $3 = 0
      DetailPrint "Warning: cannot make the access list for $MachineDir (error $4)."
      Goto done
    ${EndIf}
    ; SECURITY_ATTRIBUTES on x64: DWORD, 4 bytes padding, the pointer, BOOL, padding.
    System::Call '*(i 24, i 0, p r2, i 0, i 0) p .r0'
    System::Call 'kernel32::CreateDirectoryW(w "$MachineDir", p r0) i .r3 ?e'
    Pop $4
    System::Free $0
    System::Call 'kernel32::LocalFree(p r2)'
    ${If} $3 = 0
      DetailPrint "Warning: cannot create $MachineDir (error $4): Drover will log to no file."
      Goto done
    ${EndIf}
    DetailPrint "Created $MachineDir (Administrators and SYSTEM full control, you read-only)."
  ${Else}
    DetailPrint "Keeping $MachineDir (owned by Administrators or SYSTEM)."
  ${EndIf}
done:
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

Section "Drover (required)" SecDrover
  SectionIn RO
  SetRegView 64
  Call FindUserSid
  ; A reinstall replaces files a running Drover (and its driver) hold open.
  Push "$INSTDIR\drover.exe"
  Call StopDrover
  Push "$INSTDIR\drover.com"
  Call StopDrover
  ; And its driver, when it is this install's and nothing else uses it.
  Call RemoveOwnWinDivertService
  SetOutPath "$INSTDIR"
  File "/oname=drover.exe" "${DROVER_EXE}"
  File "/oname=drover.com" "${DROVER_COM}"
!ifdef WINDIVERT_DIR
  ; Pinned by hash, so an older copy is the same file: one the driver still
  ; holds (another program has it open) is kept rather than failing setup.
  SetOverwrite try
  File "${WINDIVERT_DIR}/WinDivert.dll"
  File "${WINDIVERT_DIR}/WinDivert64.sys"
  SetOverwrite on
  DetailPrint "WinDivert 2.2.2 (the official files) installed."
!else
  DetailPrint "This installer carries no WinDivert: it was built without the official files. \
Drover will start and report 'WinDivert.dll not found'; place WinDivert.dll and WinDivert64.sys \
(WinDivert-2.2.2-A, x64) in $INSTDIR."
!endif
  File "/oname=LICENSE.txt" "${SOURCE_DIR}/LICENSE"
  File "/oname=README.txt" "${SOURCE_DIR}/README.md"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  Call MachineDir

  ; For every user: the engine is the machine's.
  SetShellVarContext all
  CreateShortcut "$SMPROGRAMS\Drover.lnk" "$INSTDIR\drover.exe" "run" "$INSTDIR\drover.exe" 0 \
    SW_SHOWNORMAL "" "Route chosen applications through a SOCKS5 proxy"

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Drover"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "The Drover authors"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\drover.exe,0"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

; drover.exe writes the Run value itself (`autostart --on`): one writer of its
; form ("<exe>" run, the GUI program: drover.com would open a console at
; every login), and the app's rule that a "Disabled" in Task Manager is
; reported, never overridden, holds for the installer too.
Section "Start Drover when I log in" SecAutostart
  nsExec::ExecToLog '"$INSTDIR\drover.exe" autostart --on'
  Pop $0
  ${If} $0 != 0
    DetailPrint "Warning: turning autostart on failed ($0)."
  ${EndIf}
SectionEnd

; Unticked on a reinstall: autostart goes off, if it is this install's.
Section "-autostart off" SecAutostartOff
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    ReadRegStr $0 HKCU "${RUN_KEY}" "Drover"
    StrLen $1 '"$INSTDIR\'
    StrCpy $2 $0 $1
    ${If} $2 == '"$INSTDIR\'
      nsExec::ExecToLog '"$INSTDIR\drover.exe" autostart --off'
      Pop $0
    ${EndIf}
  ${EndIf}
SectionEnd

Section "-size"
  SetRegView 64
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

LangString DESC_SecDrover ${LANG_ENGLISH} "drover.exe, its console twin drover.com, the uninstaller and a Start-menu entry."
LangString DESC_SecAutostart ${LANG_ENGLISH} "Starts Drover at every login (Windows asks for administrator permission each time)."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDrover} $(DESC_SecDrover)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} $(DESC_SecAutostart)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; With UAC off (or a standard user's "Run as" declined) setup would run
; unelevated and fail half-way: refuse at once instead.
!macro DROVER_NEED_ADMIN
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "admin"
    MessageBox MB_ICONSTOP "Installing or removing Drover needs administrator rights." /SD IDOK
    SetErrorLevel 740   ; ERROR_ELEVATION_REQUIRED
    Quit
  ${EndIf}
!macroend

Function .onInit
  SetRegView 64
  !insertmacro DROVER_NEED_ADMIN
  ; The engine refuses ARM64 (WinDivert has no ARM64 driver), which runs
  ; this x64 setup under emulation: say so before installing anything.
  ${If} ${IsNativeARM64}
    MessageBox MB_ICONSTOP "Drover requires x86-64 Windows; WinDivert has no ARM64 driver." /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  ; Autostart: on for a first install; on a reinstall as it is now.
  ReadRegStr $0 HKLM "${UNINSTALL_KEY}" "InstallLocation"
  ${If} $0 != ""
    ReadRegStr $1 HKCU "${RUN_KEY}" "Drover"
    ${If} $1 == ""
      !insertmacro UnselectSection ${SecAutostart}
    ${EndIf}
  ${EndIf}
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/AUTOSTART=" $Autostart
  ${IfNot} ${Errors}
    ${If} $Autostart == 1
      !insertmacro SelectSection ${SecAutostart}
    ${ElseIf} $Autostart == 0
      !insertmacro UnselectSection ${SecAutostart}
    ${Else}
      MessageBox MB_ICONSTOP "/AUTOSTART= takes 0 or 1, not '$Autostart'." /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------------------
; Uninstall

Function un.onInit
  SetRegView 64
  !insertmacro DROVER_NEED_ADMIN
FunctionEnd

Section "Uninstall"
  SetRegView 64
  Call un.FindUserSid
  ; Asked first, so that the answer does not wait on the work below. Silent
  ; (/S): kept, the safe answer with nobody to ask.
  SetShellVarContext current
  StrCpy $R9 keep
  ${If} ${FileExists} "$APPDATA\Drover\*.*"
    MessageBox MB_YESNO|MB_ICONQUESTION "Keep your Drover settings ($APPDATA\Drover) for a later install?" \
      /SD IDYES IDYES keep_config
    StrCpy $R9 remove
    keep_config:
  ${EndIf}

  Push "$INSTDIR\drover.exe"
  Call un.StopDrover
  Push "$INSTDIR\drover.com"
  Call un.StopDrover

  ; This user's autostart, when it names this install (a portable copy's
  ; entry stays); with it Task Manager's record of it, which names nothing
  ; once the value is gone. Other users' hives are not reachable here.
  ReadRegStr $0 HKCU "${RUN_KEY}" "Drover"
  StrLen $1 '"$INSTDIR\'
  StrCpy $2 $0 $1
  ${If} $2 == '"$INSTDIR\'
    DeleteRegValue HKCU "${RUN_KEY}" "Drover"
    DeleteRegValue HKCU "${APPROVED_KEY}" "Drover"
    DetailPrint "Autostart removed."
  ${ElseIf} $0 != ""
    DetailPrint "Autostart left alone: it names another copy ($0)."
  ${EndIf}

  Call un.RemoveOwnWinDivertService

  ; Only what setup put there: never RMDir /r a folder the user chose.
  Delete /REBOOTOK "$INSTDIR\drover.exe"
  Delete /REBOOTOK "$INSTDIR\drover.com"
  Delete /REBOOTOK "$INSTDIR\WinDivert.dll"
  Delete /REBOOTOK "$INSTDIR\WinDivert64.sys"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir /REBOOTOK "$INSTDIR"

  SetShellVarContext all
  Delete "$SMPROGRAMS\Drover.lnk"

  ; The engine's folder (logs, crash dumps, stats.json), when it is the one
  ; only elevated code could make: then nothing in it was planted.
  StrCpy $MachineDir "$APPDATA\Drover"
  Push $MachineDir
  Call un.MachineDirTrust
  Pop $0
  ${If} $0 == "ok"
    RMDir /r /REBOOTOK "$MachineDir"
    DetailPrint "Removed $MachineDir."
  ${ElseIf} $0 != "missing"
    DetailPrint "Left $MachineDir alone: it is $0, not Drover's."
  ${EndIf}

  ; The user's settings: their files only, no recursion (the folder is the
  ; user's, so it may hold a link; this process is elevated).
  SetShellVarContext current
  ${If} $R9 == remove
    System::Call 'kernel32::GetFileAttributesW(w "$APPDATA\Drover") i .r0'
    IntOp $1 $0 & 0x400
    ${If} $0 <> -1
    ${AndIf} $1 = 0
      Delete "$APPDATA\Drover\*.*"
      RMDir "$APPDATA\Drover"
      DetailPrint "Removed your settings ($APPDATA\Drover)."
    ${EndIf}
  ${ElseIf} ${FileExists} "$APPDATA\Drover\*.*"
    DetailPrint "Kept your settings ($APPDATA\Drover)."
  ${EndIf}

  ; Last: a caller that waits for the uninstaller's copy sees it finished.
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
SectionEnd
