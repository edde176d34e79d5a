# pk_set_warnings(<target>): strict warnings for PromiseKeeper's own targets, PRIVATE so they
# never reach the users' targets.
function(pk_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                             -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
    if(PROMISEKEEPER_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_compile_definitions(${target} PRIVATE QT_NO_CAST_FROM_ASCII QT_NO_KEYWORDS)
endfunction()
